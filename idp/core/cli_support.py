"""What every `idp` command group shares: a clean failure and writing a document out."""

import sys
from pathlib import Path

import click


def fail(message: str):
    """A bad argument or file: one line on stderr, exit code 2, no traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def write_or_echo(text: str, output: str | None) -> None:
    """`text` into the file `output`, or on standard output when there is none."""
    if not output:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
