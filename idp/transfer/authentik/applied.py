"""`authentik_blueprints.metaapplyblueprint`: a blueprint that applies another one first.

authentik applies the blueprint instance an entry names (`attrs: {identifiers: {path: ...}}`
or `{name: ...}`, the instance's metadata name) before the rest of the file. Gatehouse has no
blueprint instances, so it looks for the file: a `path` relative to the importing file's
folder or to a blueprints folder given to `idp flows import --blueprints-dir`, a `name` among
the blueprints in those folders. `plan_imports` orders the files so that what is applied is
imported first (each file once), and refuses a cycle. The reader (`applied_line`) then names
what became of each entry: applied, optional and not found (left out, as in authentik), or
required and not found (left out and named, so --strict refuses it).
"""

from dataclasses import dataclass, field
from pathlib import Path

from idp.transfer.authentik.model import APPLY_BLUEPRINT
from idp.transfer.authentik.tags import load_blueprint, looks_like_blueprint
from idp.transfer.document import FlowFileError

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class Applied:
    """What one metaapplyblueprint entry found: `path` is None when nothing matched."""

    path: Path | None
    searched: tuple[Path, ...]


@dataclass
class ImportPlan:
    """The files to import, what each applies first, and what each entry found."""

    # Batches in import order: every applied file alone, before what applies it; the files
    # named on the command line last, together.
    batches: list[list[Path]] = field(default_factory=list)
    # File -> identifiers key -> what was found for it.
    applied: dict[Path, dict[tuple, Applied]] = field(default_factory=dict)

    def applied_by(self, source: str) -> frozenset[str]:
        """The files `source` applies, directly or through what it applies, as the import
        names them: it may update what they define."""
        by_file = {path.resolve(): found for path, found in self.applied.items()}
        reached, waiting = set(), [Path(source).resolve()]
        while waiting:
            for applied in by_file.get(waiting.pop(), {}).values():
                target = applied.path.resolve() if applied.path is not None else None
                if target is not None and target not in reached:
                    reached.add(target)
                    waiting.append(target)
        named = {str(path) for path in self.applied} | {
            str(applied.path)
            for found in self.applied.values()
            for applied in found.values()
            if applied.path is not None
        }
        return frozenset(name for name in named if Path(name).resolve() in reached)


def identifiers_key(identifiers: dict) -> tuple:
    return tuple(sorted((str(key), str(value)) for key, value in identifiers.items()))


def applied_identifiers(fields: dict, identifiers: dict) -> tuple[dict, bool]:
    """The blueprint an entry applies (`attrs.identifiers`, or the entry's own identifiers) and
    whether it is required (authentik's default: yes)."""
    applied = fields.get("identifiers")
    if not isinstance(applied, dict):
        applied = identifiers
    required = fields.get("required", True)
    return applied, required is not False


def plan_imports(paths: list[str], roots: list[str]) -> ImportPlan:
    """Every file named and every blueprint they apply, applied ones first; a cycle or an
    unreadable applied file is a FlowFileError naming the chain."""
    planner = _Planner([Path(root) for root in roots])
    named = [Path(path) for path in paths]
    for path in named:
        planner.visit(path, chain=())
    plan = ImportPlan(applied=planner.applied)
    targets = {
        applied.path.resolve()
        for found in planner.applied.values()
        for applied in found.values()
        if applied.path is not None
    }
    # What another file applies is written before it is read; the rest are read together.
    plan.batches = [[path] for path in planner.order if path.resolve() in targets]
    # One file named twice (a/b.yaml and ./a/b.yaml, or through a link) is read once.
    remaining, seen = [], set(targets)
    for path in named:
        if path.resolve() not in seen:
            seen.add(path.resolve())
            remaining.append(path)
    if remaining:
        plan.batches.append(remaining)
    return plan


class _Planner:
    def __init__(self, roots: list[Path]):
        self.roots = roots
        self.order: list[Path] = []
        self.done: set[Path] = set()
        self.applied: dict[Path, dict[tuple, Applied]] = {}
        self._names: dict[Path, str | None] = {}

    def visit(self, path: Path, chain: tuple[Path, ...]) -> None:
        key = path.resolve()
        if key in self.done:
            return
        if key in (item.resolve() for item in chain):
            shown = " -> ".join(str(item) for item in (*chain, path))
            raise FlowFileError([f"{chain[0]}: blueprints apply each other in a cycle: {shown}"])
        document = self._document(path)
        found = {}
        for identifiers in _applied_entries(document):
            applied = self.find(identifiers, path)
            found[identifiers_key(identifiers)] = applied
            if applied.path is not None:
                self.visit(applied.path, (*chain, path))
        self.applied[path] = found
        self.done.add(key)
        self.order.append(path)

    def find(self, identifiers: dict, importing: Path) -> Applied:
        # The importing file's own folder, then each blueprints folder with its subfolders
        # (as authentik's blueprints root).
        folders = (importing.parent.resolve(), *(root.resolve() for root in self.roots))
        searched = tuple(dict.fromkeys(folders))
        if not identifiers or not all(isinstance(value, str) for value in identifiers.values()):
            return Applied(None, searched)
        wanted_path = identifiers.get("path")
        wanted_name = identifiers.get("name")
        if set(identifiers) - {"path", "name"}:
            return Applied(None, searched)
        for folder in searched:
            deep = folder in (root.resolve() for root in self.roots)
            for candidate in self._candidates(folder, wanted_path, deep):
                if wanted_name is None or self._name(candidate) == wanted_name:
                    return Applied(candidate, searched)
        return Applied(None, searched)

    @staticmethod
    def _candidates(folder: Path, wanted_path: str | None, deep: bool) -> list[Path]:
        if wanted_path is not None:
            candidate = (folder / wanted_path).resolve()
            # Only what lies in the folder: a path is never a way out of it.
            if candidate.is_relative_to(folder) and candidate.is_file():
                return [candidate]
            return []
        if not folder.is_dir():
            return []
        items = folder.rglob("*") if deep else folder.iterdir()
        return sorted(item for item in items if item.suffix in SUFFIXES and item.is_file())

    def _name(self, path: Path) -> str | None:
        """The metadata name of a blueprint file, or None for anything else."""
        key = path.resolve()
        if key not in self._names:
            self._names[key] = None
            try:
                raw = path.read_bytes()
                if looks_like_blueprint(raw):
                    metadata = load_blueprint(raw, str(path)).get("metadata")
                    name = metadata.get("name") if isinstance(metadata, dict) else None
                    self._names[key] = name if isinstance(name, str) else None
            except (OSError, FlowFileError):
                pass
        return self._names[key]

    @staticmethod
    def _document(path: Path) -> dict:
        """The blueprint, or {} for what is not one: reading the file names its problems."""
        try:
            raw = path.read_bytes()
            return load_blueprint(raw, str(path)) if looks_like_blueprint(raw) else {}
        except (OSError, FlowFileError):
            return {}


def _applied_entries(document: dict) -> list[dict]:
    """The identifiers of each metaapplyblueprint entry, as written (tags unresolved)."""
    entries = document.get("entries")
    if isinstance(entries, dict):
        entries = [item for items in entries.values() if isinstance(items, list) for item in items]
    found = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("model") != APPLY_BLUEPRINT:
            continue
        attrs = entry.get("attrs") if isinstance(entry.get("attrs"), dict) else {}
        own = entry.get("identifiers") if isinstance(entry.get("identifiers"), dict) else {}
        identifiers, _required = applied_identifiers(attrs, own)
        found.append(identifiers)
    return found


class AppliedMapping:
    """The reader's part for metaapplyblueprint entries (needs `applied`, `note_resolved`,
    `show`): each is named with what became of it, never imported as an object."""

    applied: dict | None

    def _map_applied(self, entry) -> None:
        identifiers, required = applied_identifiers(entry.fields, entry.identifiers)
        shown = ", ".join(f"{key}={self.show(value)}" for key, value in identifiers.items())
        found = None if self.applied is None else self.applied.get(identifiers_key(identifiers))
        if self.applied is not None and found is None:
            found = Applied(None, ())
        line, skip = applied_line(found, required, shown or "no identifiers")
        if line is not None:
            self.note_resolved(entry, line)
        entry.skip = skip


def applied_line(applied: Applied | None, required: bool, shown: str):
    """(resolved line, skip reason): exactly one of them is set."""
    if applied is not None and applied.path is not None:
        return f"applies {applied.path.name} ({shown}), imported first", None
    if applied is None:
        where = "anywhere (no folder was searched)"
    elif applied.searched:
        where = "in " + ", ".join(str(folder) for folder in applied.searched)
    else:
        where = "found"
    if not required:
        return f"the optional blueprint it applies ({shown}) is not {where}; left out", None
    return None, (
        f"the blueprint it applies ({shown}) is not {where}; authentik refuses the file "
        "without it (give its folder with --blueprints-dir)"
    )
