"""What Gatehouse makes of folders of authentik blueprints, as `idp flows import` reads them.

    .venv/bin/python -m tests.tools.authentik_corpus_report tests/data/authentik_corpus \
        [MORE_FOLDERS...] [--blueprints-dir DIR]

Each file gets a fresh database with the shipped flows (nothing is kept between files). It is
imported with --dry-run once plainly and once with --strict, then for real; every flow it
imported is then opened over HTTP (GET /flow/<slug>/) and must not answer with a server error.
Printed: the files and repositories per folder, the files that import with --strict, the flows
imported and how they answered, the files refused and why, any that crashed (a traceback, never
acceptable), and a ranked list of what is still left out (authentik model or attribute ->
number of times). A folder's first level is `<owner>__<repository>`.
"""

import argparse
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
    folder: Path
    refused: list = field(default_factory=list)
    crashed: str = ""
    skipped: list = field(default_factory=list)
    flows: list = field(default_factory=list)
    answers: dict = field(default_factory=dict)  # flow slug -> HTTP status of GET /flow/<slug>/
    is_strict: bool = False

    @property
    def name(self) -> str:
        return str(self.path.relative_to(self.folder))

    @property
    def repository(self) -> str:
        return self.path.relative_to(self.folder).parts[0]


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
        elif reason.startswith("the blueprint it applies"):
            gist = "the blueprint it applies is not found (give its folder with --blueprints-dir)"
        elif reason.startswith(DEPENDENT_REASONS):
            return DEPENDENT
        else:
            gist = re.sub(r"'[^']*'|\"[^\"]*\"|\([^)]*\)|/\S+", "...", reason)[:90]
        return f"{match['model']}: {gist}"
    return line.split(": ", 1)[-1][:90]


ORIGIN_ONLY = "origin-only"  # the untracked subfolder of files that are not stored


def corpus_files(folder: Path) -> list[Path]:
    """The blueprints in a folder, not counting an origin-only subfolder (given on its own)."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.suffix in (".yaml", ".yml") and ORIGIN_ONLY not in path.relative_to(folder).parts
    )


def _crash(result) -> str:
    if result.exception is None or isinstance(result.exception, SystemExit):
        return ""
    return f"{type(result.exception).__name__}: {result.exception}"


def import_file(path: Path, folder: Path, options: list[str]) -> FileResult:
    result = FileResult(path, folder)
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
            _import(app, result, [*options, str(path)])
            db.session.remove()
            db.engine.dispose()
    return result


def _import(app, result: FileResult, arguments: list[str]) -> None:
    runner = app.test_cli_runner()
    plain = runner.invoke(args=["flows", "import", "--dry-run", *arguments])
    result.crashed = _crash(plain)
    if result.crashed:
        return
    if plain.exit_code != 0:
        result.refused = [line for line in plain.stderr.splitlines() if line.startswith("Error")]
        return
    result.skipped = [line for line in plain.stderr.splitlines() if line.startswith("skipped: ")]
    strict = runner.invoke(args=["flows", "import", "--dry-run", "--strict", *arguments])
    result.crashed = _crash(strict)
    result.is_strict = strict.exit_code == 0
    written = runner.invoke(args=["flows", "import", *arguments])
    result.crashed = result.crashed or _crash(written)
    result.flows = FLOW_CHANGE.findall(written.stdout)
    client = app.test_client()
    for slug in result.flows:
        result.answers[slug] = client.get(f"/flow/{slug}/").status_code


def run(folders: list[Path], options: list[str]) -> list[FileResult]:
    return [
        import_file(path, folder, options) for folder in folders for path in corpus_files(folder)
    ]


def report(folders: list[Path], results: list[FileResult]) -> str:
    strict = [result for result in results if result.is_strict]
    refused = [result for result in results if result.refused]
    crashed = [result for result in results if result.crashed]
    answers = [status for result in results for status in result.answers.values()]
    left_out = Counter(left_out_key(line) for result in results for line in result.skipped)
    lines = [
        *(
            f"{folder}: {len(mine)} files from {len({r.repository for r in mine})} repositories;"
            f" {sum(r.is_strict for r in mine)} import with --strict,"
            f" {sum(len(r.answers) for r in mine)} flows imported"
            for folder in folders
            for mine in [[r for r in results if r.folder == folder]]
        ),
        f"files: {len(results)} from {len({r.repository for r in results})} repositories",
        f"import with --strict: {len(strict)}",
        f"import with something left out: {len(results) - len(strict) - len(refused)}",
        f"refused (with the reason named): {len(refused)}",
        f"crashed: {len(crashed)}",
        f"flows imported: {len(answers)}",
        f"flows answering GET /flow/<slug>/ without a server error: "
        f"{sum(status < 500 for status in answers)} "
        f"({', '.join(f'{n} x {s}' for s, n in sorted(Counter(answers).items()))})",
        "",
        "strict:",
        *(f"  {result.name}" for result in strict),
        "",
        "refused:",
        *(f"  {r.name}: {(r.refused or ['(no message)'])[0][:200]}" for r in refused),
        "",
        "crashed:",
        *(f"  {r.name}: {r.crashed}" for r in crashed),
        "",
        "flows imported (status of GET /flow/<slug>/):",
        *(f"  {r.name}: {slug} {status}" for r in results for slug, status in r.answers.items()),
        "",
        "left out (count, what):",
        *(f"  {count:4} {key}" for key, count in left_out.most_common()),
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.authentik_corpus_report")
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--blueprints-dir", action="append", default=[])
    arguments = parser.parse_args(argv)
    missing = [folder for folder in arguments.folders if not folder.is_dir()]
    if missing:
        parser.error(f"not a folder: {missing[0]}")
    options = [f"--blueprints-dir={folder}" for folder in arguments.blueprints_dir]
    print(report(arguments.folders, run(arguments.folders, options)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
