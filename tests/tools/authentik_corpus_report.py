"""What Gatehouse makes of a folder of authentik blueprints, as `idp flows import` reads them.

    .venv/bin/python -m tests.tools.authentik_corpus_report tests/data/authentik_corpus

Each file is imported with --dry-run into a fresh database with the shipped flows (nothing is
kept between files), once plainly and once with --strict. Printed: the files and repositories,
the files that import with --strict, the flows imported, the files refused and why, and a
ranked list of what is still left out (authentik model or attribute -> number of times).
"""

import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from idp import create_app
from idp.core.extensions import db

# "bp.yaml: entries[3] authentik_stages_prompt.prompt (name=x): not imported: placeholder ..."
ATTRIBUTE_LINE = re.compile(r"entries[^ ]* (?P<model>\S+) .*?: not imported: (?P<subject>\S+)")
ENTRY_LINE = re.compile(r"entries[^ ]* (?P<model>\S+)(?: \([^)]*\))?: (?P<reason>.*)")
DEPENDENT_REASONS = (
    "its flow ",
    "what uses it is skipped",
    "its stage ",
    "its policy ",
    "the stage binding it belongs to",
    "no stage that Gatehouse imports lists it",
)
DEPENDENT = "(left out because what it belongs to is left out)"
FLOW_CHANGE = re.compile(r"^(?:create|update|unchanged)\s+flow\s+(\S+)", re.MULTILINE)


@dataclass
class FileResult:
    path: Path
    refused: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    flows: list = field(default_factory=list)
    is_strict: bool = False


def left_out_key(line: str) -> str:
    """What a skipped line is about: `model.attribute` for an attribute left out, `model`
    (with the gist of the reason) for a whole entry."""
    if match := ATTRIBUTE_LINE.search(line):
        return f"{match['model']}.{match['subject']}"
    if match := ENTRY_LINE.search(line):
        reason = match["reason"]
        if "expression policies are Python" in reason or "it uses" in reason:
            gist = reason.split(",")[0]
        elif "without that gate the flow would not stop" in reason:
            gist = "flow left out: one of its gates cannot be imported"
        elif reason.startswith(DEPENDENT_REASONS):
            return DEPENDENT
        else:
            gist = re.sub(r"'[^']*'|\"[^\"]*\"|\([^)]*\)", "...", reason)[:90]
        return f"{match['model']}: {gist}"
    return line.split(": ", 1)[-1][:90]


def import_file(runner, path: Path) -> FileResult:
    result = FileResult(path)
    plain = runner.invoke(args=["flows", "import", "--dry-run", str(path)])
    if plain.exit_code != 0:
        result.refused = [line for line in plain.stderr.splitlines() if line.startswith("Error")]
        return result
    result.skipped = [line for line in plain.stderr.splitlines() if line.startswith("skipped: ")]
    result.flows = FLOW_CHANGE.findall(plain.stdout)
    strict = runner.invoke(args=["flows", "import", "--dry-run", "--strict", str(path)])
    result.is_strict = strict.exit_code == 0
    return result


def corpus_files(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.suffix in (".yaml", ".yml"))


def run(folder: Path) -> list[FileResult]:
    with tempfile.TemporaryDirectory() as temporary:
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(Path(temporary) / "instance"),
                "SECRET_KEY": "corpus-report",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{temporary}/corpus.db",
                "BCRYPT_ROUNDS": 4,
            }
        )
        with app.app_context():
            from idp.cli import prepare_instance

            prepare_instance(echo=lambda *args, **kwargs: None)
            runner = app.test_cli_runner()
            results = [import_file(runner, path) for path in corpus_files(folder)]
            db.session.remove()
            db.engine.dispose()
    return results


def report(folder: Path, results: list[FileResult]) -> str:
    repositories = {path.relative_to(folder).parts[0] for path in (r.path for r in results)}
    strict = [result for result in results if result.is_strict]
    refused = [result for result in results if result.refused]
    flows = sum(len(result.flows) for result in results)
    left_out = Counter(left_out_key(line) for result in results for line in result.skipped)
    lines = [
        f"files: {len(results)} from {len(repositories)} repositories",
        f"import with --strict: {len(strict)}",
        f"import with something left out: {len(results) - len(strict) - len(refused)}",
        f"refused: {len(refused)}",
        f"flows imported: {flows}",
        "",
        "strict:",
        *(f"  {result.path.relative_to(folder)}" for result in strict),
        "",
        "refused:",
        *(f"  {r.path.relative_to(folder)}: {r.refused[0][:160]}" for r in refused),
        "",
        "left out (count, what):",
        *(f"  {count:4} {key}" for key, count in left_out.most_common()),
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("usage: python -m tests.tools.authentik_corpus_report FOLDER", file=sys.stderr)
        return 2
    folder = Path(argv[0])
    print(report(folder, run(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
