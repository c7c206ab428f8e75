"""What every `idp` command group shares: a clean failure and writing a document out."""

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError


def fail(message: str):
    """A bad argument or file: one line on stderr, exit code 2, no traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(2)


def database_error(error: SQLAlchemyError) -> str:
    """The database's own words, on one line and short (a driver's message may run on)."""
    words = str(error.orig if getattr(error, "orig", None) is not None else error)
    return f"database error: {' '.join(words.split())[:200]}"


class _DatabaseErrorsInOneLine:
    """A database that is down or refuses (an unknown role, a missing table) ends a command
    with one line, under `idp` and under `flask --app wsgi` alike: the console script's own
    handler does not run under flask."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as error:
            fail(database_error(error))


class CommandGroup(_DatabaseErrorsInOneLine, AppGroup):
    pass


class Command(_DatabaseErrorsInOneLine, click.Command):
    pass


def write_or_echo(text: str, output: str | None) -> None:
    """`text` into the file `output`, or on standard output when there is none."""
    if not output:
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {output}: {error.strerror}")
