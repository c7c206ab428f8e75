"""Reading authentik blueprints: the entries Gatehouse has an equivalent for become flow documents.

A blueprint is `version: 1` with `entries:`, each a `model` with `identifiers` and `attrs`, tied
together by YAML tags (`!KeyOf`, `!Find`, ...). What maps becomes one FlowDocument per flow, checked
by `read_document` and written by `import_documents` like our own files. What does not map is
named in `Translation.skipped`, never dropped silently.

As in authentik's importer, an entry changes only what it states: an existing stage keeps the
options the entry does not mention, an existing flow keeps the bindings the blueprint does not
mention, and `state: created` leaves an existing object as it is. `state: absent` removes a stage
or policy binding from its flow; flows, stages and policies are never deleted by an import, so
`absent` on one of those is reported as skipped.

Failing closed: a flow whose own policy binding cannot be imported (an expression policy, a group
Gatehouse lacks) is skipped as a whole, because without that gate it would let in whoever the
gate keeps out. A stage binding whose stage is skipped is left out of its flow, and a skipped
policy binding on a stage binding leaves that stage unconditional; both are named.
"""

import functools
import operator
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial, reduce

import yaml
from sqlalchemy import func, select
from yaml.constructor import ConstructorError

from idp.extensions import db
from idp.models import Flow, Group, Policy, Stage, User
from idp.models.flows import (
    AUTHENTICATION_REQUIREMENTS,
    DENIED_ACTIONS,
    DESIGNATIONS,
    ENGINE_MODES,
    FLOW_DEFAULTS,
    FLOW_FIELDS,
    INVALID_RESPONSE_ACTIONS,
    STAGE_BINDING_DEFAULTS,
)
from idp.options import OptionsError, options_to_mapping
from idp.policies.registry import POLICY_TYPES
from idp.stages.prompt import authentik as prompt_authentik
from idp.stages.registry import STAGE_TYPES
from idp.transfer.authentik_models import format_duration, parse_authentik_duration  # noqa: F401
from idp.transfer.document import MAX_FILE_BYTES, FlowDocument, FlowFileError, read_document
from idp.transfer.exporter import export_flow

# -- the YAML and its tags -----------------------------------------------------------------------


@dataclass
class Tag:
    """A blueprint tag as read; it is resolved once every entry and id is known."""

    line: int


@dataclass
class KeyOf(Tag):
    id: str


@dataclass
class Find(Tag):
    model: object
    conditions: list  # of (field, value)


@dataclass
class Context(Tag):
    key: object
    default: object = None


@dataclass
class Env(Tag):
    key: object
    default: object = None


@dataclass
class Format(Tag):
    template: object
    arguments: list


@dataclass
class If(Tag):
    condition: object
    when_true: object = True
    when_false: object = False


@dataclass
class Condition(Tag):
    mode: object
    arguments: list


@dataclass
class Unsupported(Tag):
    """An authentik tag Gatehouse does not evaluate; an entry that needs one is skipped."""

    name: str


# Tags authentik knows that Gatehouse reads but does not evaluate. `!File` would read any file
# on this machine, which an imported document must not be able to do.
UNSUPPORTED_TAGS = (
    "!FindObject",
    "!File",
    "!Enumerate",
    "!Index",
    "!Value",
    "!AtIndex",
    "!ParseJSON",
)
KNOWN_TAGS = ("!KeyOf", "!Find", "!Context", "!Env", "!Format", "!If", "!Condition")


class _TagError(ConstructorError):
    pass


class _Mapping(dict):
    """A mapping that remembers its line, so entries can be named by place."""

    line: int | None = None


def _line(node) -> int:
    return node.start_mark.line + 1


def _refuse(node, message):
    raise _TagError(None, None, message, node.start_mark)


def _arguments(loader, node, tag, least, most=None) -> list:
    if not isinstance(node, yaml.SequenceNode):
        _refuse(node, f"{tag} takes a list")
    count = len(node.value)
    if count < least or (most is not None and count > most):
        expected = f"{least} to {most}" if most is not None else f"at least {least}"
        _refuse(node, f"{tag} takes {expected} values, not {count}")
    return [loader.construct_object(child, deep=True) for child in node.value]


def _construct_mapping(loader, node):
    data = _Mapping()
    data.line = _line(node)
    yield data
    data.update(loader.construct_mapping(node))


def _construct_key_of(loader, node):
    if not isinstance(node, yaml.ScalarNode):
        _refuse(node, "!KeyOf takes the id of another entry")
    return KeyOf(_line(node), loader.construct_scalar(node))


def _construct_with_default(tag_class, tag, loader, node):
    if isinstance(node, yaml.ScalarNode):
        return tag_class(_line(node), loader.construct_scalar(node))
    key, default = _arguments(loader, node, tag, 2, 2)
    return tag_class(_line(node), key, default)


def _construct_find(loader, node):
    usage = "!Find takes [model, [field, value], ...]"
    if not isinstance(node, yaml.SequenceNode) or not node.value:
        _refuse(node, usage)
    model = loader.construct_object(node.value[0], deep=True)
    conditions = []
    for child in node.value[1:]:
        if not isinstance(child, yaml.SequenceNode) or len(child.value) != 2:
            _refuse(child, usage)
        conditions.append(tuple(loader.construct_object(part, deep=True) for part in child.value))
    return Find(_line(node), model, conditions)


def _construct_format(loader, node):
    template, *arguments = _arguments(loader, node, "!Format", 1)
    return Format(_line(node), template, arguments)


def _construct_if(loader, node):
    values = _arguments(loader, node, "!If", 1, 3)
    if len(values) == 2:
        _refuse(node, "!If takes [condition] or [condition, when true, when false]")
    return If(_line(node), *values)


def _construct_condition(loader, node):
    mode, *arguments = _arguments(loader, node, "!Condition", 2)
    return Condition(_line(node), mode, arguments)


def _construct_unsupported(name, loader, node):
    return Unsupported(_line(node), name)


def _construct_unknown(loader, node):
    _refuse(node, f"unknown tag {node.tag} (known: {', '.join(KNOWN_TAGS)})")


class BlueprintLoader(yaml.SafeLoader):
    """Safe YAML plus authentik's blueprint tags."""


BlueprintLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
BlueprintLoader.add_constructor("!KeyOf", _construct_key_of)
BlueprintLoader.add_constructor("!Find", _construct_find)
BlueprintLoader.add_constructor("!Context", partial(_construct_with_default, Context, "!Context"))
BlueprintLoader.add_constructor("!Env", partial(_construct_with_default, Env, "!Env"))
BlueprintLoader.add_constructor("!Format", _construct_format)
BlueprintLoader.add_constructor("!If", _construct_if)
BlueprintLoader.add_constructor("!Condition", _construct_condition)
for _name in UNSUPPORTED_TAGS:
    BlueprintLoader.add_constructor(_name, partial(_construct_unsupported, _name))
BlueprintLoader.add_constructor(None, _construct_unknown)


_BLUEPRINT_KEY = re.compile(rb"^entries[ \t]*:", re.MULTILINE)


def looks_like_blueprint(raw: bytes) -> bool:
    """A YAML file with a top-level `entries:`; its tags need BlueprintLoader to be read."""
    return _BLUEPRINT_KEY.search(raw) is not None


def is_blueprint(document) -> bool:
    return isinstance(document, dict) and "entries" in document and "flow" not in document


def load_blueprint(raw: bytes | str, source: str) -> dict:
    """Read blueprint YAML; a FlowFileError names the line of what is wrong."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_FILE_BYTES:
            raise FlowFileError([f"{source}: larger than {MAX_FILE_BYTES // 1024} KiB"])
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise FlowFileError([f"{source}: not UTF-8 text"]) from None
    loader = BlueprintLoader(raw)
    try:
        document = loader.get_single_data()
    except RecursionError:
        raise FlowFileError([f"{source}: nested too deeply"]) from None
    except _TagError as error:
        line = error.problem_mark.line + 1
        raise FlowFileError([f"{source}: line {line}: {error.problem}"]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        problem = getattr(error, "problem", None) or "cannot be parsed"
        raise FlowFileError([f"{source}: not valid YAML{where}: {problem}"]) from None
    finally:
        loader.dispose()
    if not isinstance(document, dict):
        raise FlowFileError([f"{source}: a blueprint must be a mapping with version and entries"])
    return document


# -- what references resolve to ------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRef:
    """Another entry of the blueprint: what `!KeyOf` names, or what `!Find` found in it."""

    index: int


@dataclass(frozen=True)
class Existing:
    """An object Gatehouse has already, found by `!Find`: its kind and its name (or slug)."""

    kind: str
    name: str


def _xor(values):
    return reduce(operator.xor, values)


CONDITION_MODES = {
    "AND": all,
    "OR": any,
    "NAND": lambda values: not all(values),
    "NOR": lambda values: not any(values),
    "XOR": _xor,
    "XNOR": lambda values: not _xor(values),
    # authentik has no NOT; with one value it is the negation, with more it is NOR.
    "NOT": lambda values: not any(values),
}


# -- authentik's models and what they become -----------------------------------------------------

FLOW = "authentik_flows.flow"
STAGE_BINDING = "authentik_flows.flowstagebinding"
POLICY_BINDING = "authentik_policies.policybinding"
PROMPT = prompt_authentik.FIELD_MODEL
GROUP = "authentik_core.group"
USER = "authentik_core.user"
EXPRESSION_POLICY = "authentik_policies_expression.expressionpolicy"
APPLY_BLUEPRINT = "authentik_blueprints.metaapplyblueprint"

# Attributes of a flow Gatehouse has no equivalent for, with the values that mean "off".
FLOW_OFF_VALUES = {"layout": ("stacked",), "background": ("",), "compatibility_mode": (False,)}
# authentik's own bookkeeping, with no behaviour: never worth a note.
BOOKKEEPING = {"pk", "managed"}

ENTRY_KEYS = {"model", "state", "conditions", "identifiers", "attrs", "permissions", "id"}
TOP_KEYS = {"version", "entries", "metadata", "context"}
STATES = ("present", "created", "must_created", "absent")
AUTHENTIK_ONLY_DESIGNATIONS = ("authorization",)
AUTHENTIK_ONLY_REQUIREMENTS = ("require_redirect", "require_outpost")
FIND_FIELDS = {
    "flow": ("slug", "name"),
    "stage": ("name",),
    "policy": ("name",),
    "group": ("name",),
    "user": ("username",),
}


@functools.cache
def _types_of(kind: str) -> dict:
    """authentik model -> Gatehouse type name, for the stage or policy types that have one."""
    registry = STAGE_TYPES if kind == "stage" else POLICY_TYPES
    return {
        item.authentik.model: name for name, item in registry.items() if item.authentik is not None
    }


def _mapping(kind: str, type_name: str):
    return (STAGE_TYPES if kind == "stage" else POLICY_TYPES)[type_name].authentik


def _registered_stage_type(model: str) -> str | None:
    return _types_of("stage").get(model)


def _registered_policy_type(model: str) -> str | None:
    return _types_of("policy").get(model)


def _off_values(model: str) -> dict:
    if model == FLOW:
        return FLOW_OFF_VALUES
    for kind in ("stage", "policy"):
        if type_name := _types_of(kind).get(model):
            return _mapping(kind, type_name).off_values
    return {}


def _kind(model: str) -> str | None:
    if model == FLOW:
        return "flow"
    if model == STAGE_BINDING:
        return "stage_binding"
    if model == POLICY_BINDING:
        return "policy_binding"
    if model == PROMPT:
        return "prompt"
    if _registered_stage_type(model):
        return "stage"
    if _registered_policy_type(model):
        return "policy"
    return None


def _database_kind(model: str) -> tuple[str | None, str | None]:
    """What `!Find` on this model looks up in Gatehouse's database, and of which type."""
    if model == FLOW:
        return "flow", None
    if model in (GROUP, USER):
        return model.rsplit(".", 1)[1], None
    if stage_type := _registered_stage_type(model):
        return "stage", stage_type
    if policy_type := _registered_policy_type(model):
        return "policy", policy_type
    return None, None


def _unmapped_reason(entry) -> str:
    if entry.model == EXPRESSION_POLICY:
        return (
            "expression policies are Python and are not translated; "
            "write a Gatehouse policy that does the same"
        )
    if entry.model == APPLY_BLUEPRINT:
        return "it applies another blueprint, which Gatehouse does not follow; import that file too"
    if entry.model in (GROUP, USER):
        return "users and groups are not created from blueprints (idp users/groups create)"
    application = entry.model.split(".", 1)[0]
    if application.startswith("authentik_stages_"):
        return "Gatehouse has no such stage type"
    if application.startswith("authentik_policies_"):
        return "Gatehouse has no such policy type"
    return "Gatehouse has no equivalent"


# -- durations -----------------------------------------------------------------------------------

# -- what the translation asks of the database ---------------------------------------------------


class DatabaseLookup:
    """Read-only questions about objects Gatehouse has already."""

    def find(self, kind: str, conditions: dict, type_name: str | None = None) -> str | None:
        """The name (slug for flows, username for users) of a matching object, or None."""
        if not all(isinstance(value, str) for value in conditions.values()):
            return None
        if kind == "user":
            wanted = conditions["username"].lower()
            statement = select(User.username).where(func.lower(User.username) == wanted)
            return db.session.scalar(statement.limit(1))
        model, key = {
            "flow": (Flow, Flow.slug),
            "stage": (Stage, Stage.name),
            "policy": (Policy, Policy.name),
            "group": (Group, Group.name),
        }[kind]
        statement = select(key)
        for name, value in conditions.items():
            statement = statement.where(getattr(model, name) == value)
        if type_name is not None:
            statement = statement.where(model.type == type_name)
        return db.session.scalar(statement.limit(1))

    def stage(self, name: str) -> tuple[str, dict] | None:
        return self._component(Stage, name)

    def policy(self, name: str) -> tuple[str, dict] | None:
        return self._component(Policy, name)

    def flow(self, slug: str) -> dict | None:
        """The flow as a version-1 document, the base a blueprint's entries change."""
        return export_flow(slug)

    @staticmethod
    def _component(model, name):
        row = db.session.execute(
            select(model.type, model.options).where(model.name == name)
        ).first()
        return (row.type, dict(row.options or {})) if row else None


# -- the translation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    documents: list[FlowDocument]
    skipped: list[str]  # one line per entry or attribute that is not imported, with its place


def read_blueprint(document: dict, source: str = "", lookup=None) -> Translation:
    """Map a loaded blueprint; raises FlowFileError naming every problem with its place."""
    return _Translator(document, source, lookup or DatabaseLookup()).translate()


@dataclass
class Entry:
    index: int
    place: str
    line: int | None
    raw: dict
    model: str = ""
    state: str = "present"
    identifiers: dict = field(default_factory=dict)
    fields: dict = field(default_factory=dict)  # identifiers over attrs, tags resolved
    used: set = field(default_factory=set)
    notes: list = field(default_factory=list)  # attributes that are not imported
    skip: str | None = None  # why the entry is not imported
    # What skipping it does to a flow that is imported: (that flow, the sentence).
    consequence: tuple | None = None
    is_reported: bool = True

    @property
    def key(self) -> str | None:
        """Its slug or name; read from the plain YAML when its tags are not resolved yet."""
        plain = {}
        for part in ("attrs", "identifiers"):
            if isinstance(self.raw.get(part), dict):
                plain.update(self.raw[part])
        for name in ("slug", "name", "field_key", "username"):
            for source in (self.fields, plain):
                value = source.get(name)
                if isinstance(value, str) and value:
                    return value
        return None


@dataclass
class _Component:
    """A stage or policy entry: what it becomes, and whether there is anything to write."""

    entry: Entry
    name: str
    type: str
    options: dict
    is_written: bool = True


@dataclass
class _FlowPlan:
    """One flow as a version-1 document in the making, starting from what the database has."""

    slug: str
    fields: dict
    policies: list  # policy bindings on the flow, version-1 form
    stages: list  # stage bindings, version-1 form, each with its "policies"
    entry: Entry | None = None
    contributors: list = field(default_factory=list)  # entries that change this flow
    closed_gates: list = field(default_factory=list)  # its own policy bindings that are skipped
    skip: str | None = None


# Aliases can make a small file expand into a huge (or endless) tree; the reader walks it
# expanded, so it refuses one past these sizes first.
MAX_DEPTH = 64
MAX_VALUES = 200_000


def _check_size(document, prefix: str) -> None:
    remaining = MAX_VALUES

    def walk(value, depth):
        nonlocal remaining
        remaining -= 1
        if remaining < 0:
            raise FlowFileError([f"{prefix}too large once its YAML aliases are expanded"])
        if depth > MAX_DEPTH:
            raise FlowFileError([f"{prefix}nested too deeply (an alias that contains itself?)"])
        if isinstance(value, dict):
            children = list(value.values())
        elif isinstance(value, list):
            children = value
        elif isinstance(value, Tag):
            children = [getattr(value, name) for name in vars(value) if name != "line"]
        else:
            return
        for child in children:
            walk(child, depth + 1)

    walk(document, 0)


def _first_unsupported(value) -> Unsupported | None:
    if isinstance(value, Unsupported):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for item in value:
            found = _first_unsupported(item)
            if found is not None:
                return found
    return None


def _by_order(bindings: list) -> list:
    return sorted(bindings, key=lambda binding: binding["order"])


class EntrySource:
    """One entry's attributes as a package's `read_options` reads them (authentik_models.py).

    Reading an attribute marks it used; whatever is never read is named as not imported.
    `note` names one attribute that is not imported, `skip` leaves the whole entry out with a
    reason, and `problem` refuses the file.
    """

    def __init__(self, translator: "_Translator", entry: Entry):
        self._translator = translator
        self._entry = entry

    def has(self, key: str) -> bool:
        return key in self._entry.fields

    def value(self, key: str):
        return self._translator._value(self._entry, key)

    def text(self, key: str, default=None, required: bool = False):
        return self._translator._text(self._entry, key, default, required)

    def flag(self, key: str, default: bool):
        return self._translator._flag(self._entry, key, default)

    def number(self, key: str, default):
        return self._translator._number(self._entry, key, default)

    def items(self, key: str) -> list | None:
        return self._translator._list(self._entry, key)

    def duration(self, key: str) -> timedelta | None:
        """An authentik duration (`hours=8;minutes=30`), or None when it is not one."""
        text = self.text(key, "")
        try:
            return parse_authentik_duration(text)
        except ValueError:
            self.problem(f"{key} {text!r} is not a duration like hours=8;minutes=30")
            return None

    def show(self, value) -> str:
        return self._translator._show(value)

    def note(self, subject: str, why: str) -> None:
        self._translator._note(self._entry, subject, why)

    def skip(self, reason: str) -> None:
        self._entry.skip = reason

    def problem(self, message: str) -> None:
        self._translator._entry_problem(self._entry, message)

    def flow_link(self, key: str) -> str:
        """The slug of the flow an attribute points at, or "" (named) when there is none."""
        return self._translator._flow_link(self._entry, key)

    def policy_name(self, value) -> tuple[str | None, str]:
        """The name of the policy a value points at, or None and why."""
        return self._translator._policy_name(value, self._entry)

    def group_name(self, value) -> str | None:
        return self._translator._group_name(value)

    def group_exists(self, name: str) -> bool:
        return self._translator.lookup.find("group", {"name": name}) is not None

    def prompt_fields(self, key: str) -> list[dict]:
        """The prompt fields that the prompt entries an attribute lists became."""
        return self._translator._prompt_fields(self._entry, key)


class _Translator:
    def __init__(self, document: dict, source: str, lookup):
        self.document = document
        self.prefix = f"{source}: " if source else ""
        self.lookup = lookup
        self.problems: list[str] = []
        self.entries: list[Entry] = []
        self.ids: dict[str, int] = {}
        self.primary_keys: dict[str, int] = {}
        self.context: dict = {}
        self.prompts: dict[int, dict] = {}  # prompt entry -> its field, version-1 form
        self.components: dict[int, _Component] = {}  # stage or policy entry -> component
        self.flows: dict[str, _FlowPlan] = {}  # slug -> plan
        self.flow_of_entry: dict[int, _FlowPlan] = {}
        self.bindings: dict[int, tuple[_FlowPlan, dict]] = {}  # stage binding entry -> binding
        self.users_of: dict[int, set[int]] = defaultdict(set)  # entry -> entries that use it
        self.standalone: list[_Component] = []

    def translate(self) -> Translation:
        _check_size(self.document, self.prefix)
        for step in (self._read_structure, self._resolve_entries, self._map_entries):
            step()
            if self.problems:
                raise FlowFileError(self.problems)
        documents = self._documents()
        if self.problems:
            raise FlowFileError(self.problems)
        return Translation(documents, self._skipped_lines())

    # -- problems and notes

    def _problem(self, place: str, message: str, line: int | None = None) -> None:
        where = place + (f" (line {line})" if line else "")
        self.problems.append(f"{self.prefix}{where}: {message}" if where else self.prefix + message)

    def _entry_problem(self, entry: Entry, message: str, line: int | None = None) -> None:
        where = f"{entry.place} {entry.model}".rstrip()
        self._problem(where, message, line or entry.line)

    @staticmethod
    def _note(entry: Entry, subject: str, why: str) -> None:
        entry.notes.append(f"not imported: {subject} ({why})")

    def _show(self, value) -> str:
        if isinstance(value, EntryRef):
            target = self.entries[value.index]
            return target.key or target.raw.get("id") or target.place
        if isinstance(value, Existing):
            return value.name
        if isinstance(value, list):
            return "[" + ", ".join(self._show(item) for item in value) + "]"
        if isinstance(value, dict):
            return "{...}"
        if isinstance(value, Tag):
            return f"!{type(value).__name__}"
        if value is None:
            return "none"
        text = str(value)
        return text if len(text) <= 60 else text[:57] + "..."

    def _label(self, entry: Entry) -> str:
        shown = ", ".join(
            f"{key}={self._show(value)}"
            for key, value in entry.identifiers.items()
            if key not in BOOKKEEPING
        )
        if not shown and entry.key:
            shown = entry.key
        return f"{entry.place} {entry.model or '(no model)'}" + (f" ({shown})" if shown else "")

    def _skipped_lines(self) -> list[str]:
        lines = []
        for entry in self.entries:
            if entry.skip is not None:
                if entry.is_reported:
                    reason = entry.skip
                    if entry.consequence is not None and entry.consequence[0].skip is None:
                        reason += entry.consequence[1]
                    lines.append(f"{self.prefix}{self._label(entry)}: {reason}")
            else:
                lines.extend(f"{self.prefix}{self._label(entry)}: {note}" for note in entry.notes)
        return lines

    # -- structure

    def _read_structure(self) -> None:
        document = self.document
        for key in document:
            if key not in TOP_KEYS:
                allowed = ", ".join(sorted(TOP_KEYS))
                self._problem("document", f"unknown key {key!r} (a blueprint has {allowed})")
        if document.get("version") != 1:
            self._problem("version", f"must be 1, not {document.get('version')!r}")
        context = document.get("context") or {}
        if not isinstance(context, dict):
            self._problem("context", "must be a mapping")
            context = {}
        raw_entries = document.get("entries")
        listed = []
        if isinstance(raw_entries, dict):  # authentik also allows named sections of entries
            for section, items in raw_entries.items():
                if not isinstance(items, list):
                    self._problem(f"entries.{section}", "must be a list")
                    continue
                listed.extend((f"entries.{section}[{i}]", item) for i, item in enumerate(items))
        elif isinstance(raw_entries, list):
            listed = [(f"entries[{index}]", item) for index, item in enumerate(raw_entries)]
        else:
            self._problem("entries", "must be a list of entries")
        if not listed and not self.problems:
            self._problem(
                "", "this authentik blueprint has no entries, so there is nothing to import"
            )
        for place, raw in listed:
            self._add_entry(place, raw)
        # Context values are resolved once, before any entry, and cannot use !Context themselves.
        self.context = self._resolve(context, None)

    def _add_entry(self, place: str, raw) -> None:
        line = getattr(raw, "line", None)
        if not isinstance(raw, dict):
            self._problem(place, "must be a mapping with model, identifiers and attrs", line)
            return
        for key in raw:
            if key not in ENTRY_KEYS:
                allowed = ", ".join(sorted(ENTRY_KEYS))
                self._problem(place, f"unknown key {key!r} (an entry has {allowed})", line)
        entry = Entry(len(self.entries), place, line, raw)
        entry_id = raw.get("id")
        if entry_id is not None:
            if not isinstance(entry_id, str | int) or isinstance(entry_id, bool):
                self._problem(place, "id must be text", line)
            elif str(entry_id) in self.ids:
                first = self.entries[self.ids[str(entry_id)]].place
                self._problem(place, f"id {entry_id!r} is used by {first} already", line)
            else:
                self.ids[str(entry_id)] = entry.index
        identifiers = raw.get("identifiers")
        if isinstance(identifiers, dict) and isinstance(identifiers.get("pk"), str):
            self.primary_keys.setdefault(identifiers["pk"], entry.index)
        self.entries.append(entry)

    # -- tags

    def _resolve_entries(self) -> None:
        for entry in self.entries:
            self._resolve_entry(entry)

    def _resolve_entry(self, entry: Entry) -> None:
        raw = entry.raw
        model = self._resolve(raw.get("model"), entry)
        if not isinstance(model, str) or not model.strip():
            self._problem(entry.place, "model must be text like authentik_flows.flow", entry.line)
            return
        entry.model = model.strip().lower()
        state = self._resolve(raw.get("state", "present"), entry)
        if state not in STATES:
            self._entry_problem(entry, f"state must be one of {', '.join(STATES)}, not {state!r}")
            return
        entry.state = state
        parts = {}
        for key in ("identifiers", "attrs"):
            value = self._resolve(raw.get(key), entry)
            if value is None:
                value = {}
            if not isinstance(value, dict):
                self._entry_problem(entry, f"{key} must be a mapping")
                return
            parts[key] = value
        entry.identifiers = parts["identifiers"]
        entry.fields = {**parts["attrs"], **parts["identifiers"]}
        conditions = raw.get("conditions") or []
        if not isinstance(conditions, list):
            self._entry_problem(entry, "conditions must be a list")
            return
        results = [self._resolve(condition, entry) for condition in conditions]
        unsupported = _first_unsupported(results)
        if unsupported is not None:
            entry.skip = f"its conditions use {unsupported.name}, which Gatehouse does not evaluate"
        elif not all(results):
            # As in authentik: an entry whose conditions are false is not part of the blueprint.
            entry.skip = "its conditions are false"
            entry.is_reported = False
        permissions = raw.get("permissions")
        if permissions:
            self._note(entry, "permissions", "Gatehouse has no object permissions")

    def _resolve(self, value, entry: Entry | None):
        if isinstance(value, Tag):
            return self._resolve_tag(value, entry)
        if isinstance(value, dict):
            return {key: self._resolve(item, entry) for key, item in value.items()}
        if isinstance(value, list):
            return [self._resolve(item, entry) for item in value]
        return value

    def _tag_problem(self, entry: Entry | None, tag: Tag, message: str) -> None:
        if entry is None:
            self._problem("context", message, tag.line)
        else:
            self._entry_problem(entry, message, tag.line)

    def _resolve_tag(self, tag: Tag, entry: Entry | None):
        match tag:
            case KeyOf():
                index = self.ids.get(tag.id)
                if index is None:
                    self._tag_problem(entry, tag, f"!KeyOf {tag.id!r}: no entry has this id")
                    return None
                return EntryRef(index)
            case Env() | Context():
                key = self._resolve(tag.key, entry)
                if not isinstance(key, str):
                    self._tag_problem(entry, tag, f"!{type(tag).__name__} takes a name")
                    return None
                if isinstance(tag, Env):
                    return os.environ.get(key) or self._resolve(tag.default, entry)
                if key in self.context:
                    return self.context[key]
                return self._resolve(tag.default, entry)
            case Format():
                return self._format(tag, entry)
            case If():
                condition = self._resolve(tag.condition, entry)
                if isinstance(condition, Unsupported):
                    return condition
                return self._resolve(tag.when_true if condition else tag.when_false, entry)
            case Condition():
                mode = self._resolve(tag.mode, entry)
                if not isinstance(mode, str) or mode.upper() not in CONDITION_MODES:
                    modes = ", ".join(CONDITION_MODES)
                    self._tag_problem(entry, tag, f"!Condition mode must be one of {modes}")
                    return False
                values = [self._resolve(argument, entry) for argument in tag.arguments]
                unsupported = _first_unsupported(values)
                if unsupported is not None:
                    return unsupported
                return CONDITION_MODES[mode.upper()]([bool(value) for value in values])
            case Find():
                return self._find(tag, entry)
        return tag  # Unsupported: kept, so the entry that needs it is skipped and named

    def _format(self, tag: Format, entry: Entry | None):
        template = self._resolve(tag.template, entry)
        if not isinstance(template, str):
            self._tag_problem(entry, tag, "!Format takes a format text first")
            return ""
        values = [self._resolve(argument, entry) for argument in tag.arguments]
        unsupported = _first_unsupported(values)
        if unsupported is not None:
            return unsupported
        shown = tuple(
            self._show(value) if isinstance(value, EntryRef | Existing) else value
            for value in values
        )
        try:
            return template % shown
        except (TypeError, ValueError) as error:
            self._tag_problem(entry, tag, f"!Format {template!r}: {error}")
            return ""

    def _find(self, tag: Find, entry: Entry | None):
        model = self._resolve(tag.model, entry)
        conditions = [
            (self._resolve(name, entry), self._resolve(value, entry))
            for name, value in tag.conditions
        ]
        if not isinstance(model, str) or not all(isinstance(name, str) for name, _ in conditions):
            self._tag_problem(entry, tag, "!Find takes [model, [field, value], ...] with text")
            return None
        model = model.lower()
        if not conditions:
            return None
        for candidate in self.entries:
            # An entry cannot find itself: in authentik it does not exist yet when it is read.
            if candidate is not entry and self._matches(candidate, model, conditions):
                return EntryRef(candidate.index)
        kind, type_name = _database_kind(model)
        if kind is None or any(name not in FIND_FIELDS[kind] for name, _ in conditions):
            return None
        found = self.lookup.find(kind, dict(conditions), type_name)
        return Existing(kind, found) if found else None

    @staticmethod
    def _matches(candidate: Entry, model: str, conditions) -> bool:
        """Compares plain values only, so a !Find cannot loop through other entries' tags."""
        raw = candidate.raw
        raw_model = raw.get("model")
        if not isinstance(raw_model, str) or raw_model.strip().lower() != model:
            return False
        plain = {}
        for key in ("attrs", "identifiers"):
            if isinstance(raw.get(key), dict):
                plain.update(raw[key])
        return all(
            name in plain and not isinstance(plain[name], Tag) and plain[name] == value
            for name, value in conditions
        )

    # -- reading values

    def _value(self, entry: Entry, key: str):
        entry.used.add(key)
        return entry.fields.get(key)

    def _text(self, entry: Entry, key: str, default=None, required=False):
        value = self._value(entry, key)
        if value is None:
            if required:
                self._entry_problem(entry, f"{key} is required")
            return default
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        self._entry_problem(entry, f"{key} must be text, not {self._show(value)}")
        return default

    def _flag(self, entry: Entry, key: str, default):
        value = self._value(entry, key)
        if value is None:
            return default
        if not isinstance(value, bool):
            self._entry_problem(entry, f"{key} must be true or false, not {self._show(value)}")
            return default
        return value

    def _number(self, entry: Entry, key: str, default):
        value = self._value(entry, key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self._entry_problem(entry, f"{key} must be a whole number, not {self._show(value)}")
            return default
        return value

    def _choice(self, entry: Entry, key: str, choices, default):
        value = self._text(entry, key, default)
        if value not in choices:
            self._entry_problem(entry, f"{key} must be one of {', '.join(choices)}, not {value!r}")
            return default
        return value

    def _list(self, entry: Entry, key: str) -> list | None:
        value = self._value(entry, key)
        if value is not None and not isinstance(value, list):
            self._entry_problem(entry, f"{key} must be a list")
            return None
        return value

    def _entry_of(self, value) -> Entry | None:
        """The entry a value points at: by !KeyOf, !Find or the primary key an export uses."""
        if isinstance(value, EntryRef):
            return self.entries[value.index]
        if isinstance(value, str) and value in self.primary_keys:
            return self.entries[self.primary_keys[value]]
        return None

    # -- mapping

    def _map_entries(self) -> None:
        by_kind = defaultdict(list)
        for entry in self.entries:
            if entry.skip is not None:
                continue
            kind = _kind(entry.model)
            if kind is None:
                entry.skip = _unmapped_reason(entry)
                applied = entry.fields.get("identifiers")
                if entry.model == APPLY_BLUEPRINT and isinstance(applied, dict):
                    names = ", ".join(
                        f"{key}={self._show(value)}" for key, value in applied.items()
                    )
                    entry.skip = f"{entry.skip} ({names})"
                continue
            unsupported = _first_unsupported(entry.fields)
            if unsupported is not None:
                entry.skip = (
                    f"it uses {unsupported.name} (line {unsupported.line}), "
                    "which Gatehouse does not evaluate"
                )
                continue
            by_kind[kind].append(entry)
        # Leaves first, so that what refers to them knows whether they are imported.
        for kind, mapper in (
            ("prompt", self._map_prompt),
            ("policy", self._map_policy),
            ("stage", self._map_stage),
            ("flow", self._map_flow),
            ("stage_binding", self._map_stage_binding),
            ("policy_binding", self._map_policy_binding),
        ):
            for entry in by_kind[kind]:
                mapper(entry)
        self._close_gated_flows()
        self._settle_components()
        for entries in by_kind.values():
            for entry in entries:
                if entry.skip is None:
                    self._note_leftovers(entry)

    def _note_leftovers(self, entry: Entry) -> None:
        off = _off_values(entry.model)
        for key, value in entry.fields.items():
            if key in entry.used or key in BOOKKEEPING or value is None:
                continue
            if key in off and value in off[key]:
                continue
            self._note(entry, f"{key} {self._show(value)}", "Gatehouse has no equivalent")

    def _settle_state(self, entry: Entry, name: str, exists: bool, what: str) -> bool:
        """False when the entry asks for nothing Gatehouse will write."""
        if entry.state == "absent":
            entry.skip = (
                f"state absent: Gatehouse does not delete {what}s on import; delete it in the admin"
            )
            return False
        if entry.state == "must_created" and exists:
            self._entry_problem(entry, f"state must_created, but the {what} {name!r} exists")
            return False
        return True

    def _map_prompt(self, entry: Entry) -> None:
        if entry.state == "absent":
            entry.used.update(entry.fields)
            entry.skip = "state absent: fields live inside prompt stages; remove it there"
            return
        field = prompt_authentik.read_field(EntrySource(self, entry))
        if field is not None and entry.skip is None:
            self.prompts[entry.index] = field

    def _component_to_map(self, entry: Entry, kind: str, find):
        """(name, existing) for a stage or policy entry still to be mapped, or None when
        the entry is settled already (bad name, state, or `created` over an existing one)."""
        name = self._text(entry, "name", required=True)
        if name is None:
            return None
        existing = find(name)
        if not self._settle_state(entry, name, existing is not None, kind):
            return None
        if entry.state == "created" and existing is not None:
            entry.used.update(entry.fields)
            self.components[entry.index] = _Component(entry, name, *existing, is_written=False)
            return None
        return name, existing

    def _map_policy(self, entry: Entry) -> None:
        self._map_component(entry, "policy", self.lookup.policy)

    def _map_stage(self, entry: Entry) -> None:
        self._map_component(entry, "stage", self.lookup.stage)

    def _map_component(self, entry: Entry, kind: str, find) -> None:
        type_name = _types_of(kind)[entry.model]
        found = self._component_to_map(entry, kind, find)
        if found is None:
            return
        name, existing = found
        mapping = _mapping(kind, type_name)
        # An existing object of the same type keeps what the entry does not mention.
        if existing is not None and existing[0] == type_name:
            options = dict(existing[1])
        else:
            options = dict(mapping.new_options)
        mapping.read_options(EntrySource(self, entry), options)
        if entry.skip is None:
            self._add_component(entry, name, type_name, options, kind)

    def _add_component(self, entry, name, type_name, options, kind) -> None:
        registry = STAGE_TYPES if kind == "stage" else POLICY_TYPES
        try:
            parsed = registry[type_name].parse_options(options)
        except OptionsError as error:
            self._entry_problem(entry, f"cannot become a {type_name} {kind}: {error}")
            return
        self.components[entry.index] = _Component(
            entry, name, type_name, options_to_mapping(parsed)
        )

    def _prompt_fields(self, entry: Entry, key: str) -> list[dict]:
        prompt_fields = []
        for position, value in enumerate(self._list(entry, key) or []):
            target = self._entry_of(value)
            if target is None or target.model != PROMPT:
                self._note(
                    entry,
                    f"{key}[{position}] {self._show(value)}",
                    "it is not a prompt entry of this blueprint",
                )
                continue
            self.users_of[target.index].add(entry.index)
            if target.index in self.prompts:  # a skipped prompt is named on its own entry
                prompt_fields.append(self.prompts[target.index])
        return prompt_fields

    def _flow_link(self, entry: Entry, key: str) -> str:
        value = self._value(entry, key)
        if value is None:
            return ""
        target = self._entry_of(value)
        if target is not None and target.model == FLOW and target.key:
            return target.key
        if isinstance(value, Existing) and value.kind == "flow":
            return value.name
        self._note(entry, f"{key} {self._show(value)}", "it is not a flow here or in Gatehouse")
        return ""

    # -- references to other entries

    def _policy_name(self, value, user: Entry) -> tuple[str | None, str]:
        return self._component_name(value, user, _types_of("policy"), "policy")

    def _stage_name(self, value, user: Entry) -> tuple[str | None, str]:
        return self._component_name(value, user, _types_of("stage"), "stage")

    def _component_name(self, value, user: Entry, models, kind) -> tuple[str | None, str]:
        """The name of the stage or policy a value points at, or why there is none. Removing a
        binding (state absent) needs only the name, even of an entry that is skipped."""
        target = self._entry_of(value)
        if target is not None:
            self.users_of[target.index].add(user.index)
            component = self.components.get(target.index)
            if component is not None and target.model in models:
                return component.name, ""
            if user.state == "absent" and target.key:
                return target.key, ""
            return None, f"its {kind} {target.key or target.place} is skipped"
        if isinstance(value, Existing) and value.kind == kind:
            return value.name, ""
        if value is None:
            return None, f"its {kind} is empty (a !Find that found nothing?)"
        return None, f"its {kind} {self._show(value)} is not in this blueprint or in Gatehouse"

    def _group_name(self, value) -> str | None:
        target = self._entry_of(value)
        if target is not None and target.model == GROUP:
            name = target.fields.get("name")
            return name if isinstance(name, str) else None
        if isinstance(value, Existing) and value.kind == "group":
            return value.name
        return None

    def _user_name(self, value) -> str | None:
        target = self._entry_of(value)
        if target is not None and target.model == USER:
            name = target.fields.get("username")
            return name if isinstance(name, str) else None
        if isinstance(value, Existing) and value.kind == "user":
            return value.name
        return None

    def _flow_plan(self, slug: str, base: dict | None) -> _FlowPlan:
        plan = self.flows.get(slug)
        if plan is not None:
            return plan
        if base is not None:
            flow = base["flow"]
            plan = _FlowPlan(
                slug=slug,
                fields={key: flow[key] for key in FLOW_FIELDS},
                policies=[dict(binding) for binding in flow.get("policies", [])],
                stages=[
                    {
                        **binding,
                        "policies": [dict(item) for item in binding.get("policies", [])],
                    }
                    for binding in flow.get("stages", [])
                ],
            )
        else:
            plan = _FlowPlan(
                slug=slug,
                fields={"slug": slug, **FLOW_DEFAULTS},
                policies=[],
                stages=[],
            )
        self.flows[slug] = plan
        return plan

    def _target_flow(self, value) -> tuple[_FlowPlan | None, str]:
        target = self._entry_of(value)
        if target is not None:
            if target.model != FLOW:
                shown = self._show(value)
                return None, f"its target {target.model} {shown} is not something Gatehouse imports"
            plan = self.flow_of_entry.get(target.index)
            if plan is None:
                return None, f"its flow {target.key or target.place} is skipped"
            return plan, ""
        if isinstance(value, Existing) and value.kind == "flow":
            base = self.lookup.flow(value.name)
            if base is not None:
                return self._flow_plan(value.name, base), ""
        if value is None:
            return None, "its target is empty (a !Find that found nothing?)"
        return None, f"its target {self._show(value)} is not a flow in this blueprint or Gatehouse"

    # -- flows and bindings

    def _map_flow(self, entry: Entry) -> None:
        slug = self._text(entry, "slug", required=True)
        if slug is None:
            return
        base = self.lookup.flow(slug)
        exists = base is not None or slug in self.flows
        if not self._settle_state(entry, slug, exists, "flow"):
            return
        if entry.state == "created" and exists:
            entry.used.update(entry.fields)
        else:
            fields = {}
            for key in ("name", "title"):
                if key in entry.fields:
                    fields[key] = self._text(entry, key, "")
            for key, choices, foreign in (
                ("designation", DESIGNATIONS, AUTHENTIK_ONLY_DESIGNATIONS),
                ("authentication", AUTHENTICATION_REQUIREMENTS, AUTHENTIK_ONLY_REQUIREMENTS),
                ("denied_action", DENIED_ACTIONS, ()),
                ("policy_engine_mode", ENGINE_MODES, ()),
            ):
                if key not in entry.fields:
                    continue
                value = self._text(entry, key)
                if value in foreign:
                    entry.skip = f"{key} {value} has no Gatehouse equivalent"
                    return
                fields[key] = self._choice(entry, key, choices, None)
            if not exists:
                for key in ("name", "designation"):
                    if entry.fields.get(key) is None:
                        self._entry_problem(entry, f"{key} is required for a new flow")
            self._flow_plan(slug, base).fields.update(fields)
        plan = self._flow_plan(slug, base)
        plan.entry = plan.entry or entry
        self.flow_of_entry[entry.index] = plan

    def _map_stage_binding(self, entry: Entry) -> None:
        plan, flow_reason = self._target_flow(self._value(entry, "target"))
        stage_name, stage_reason = self._stage_name(self._value(entry, "stage"), entry)
        order = self._order(entry)
        if order is None and entry.state != "absent":
            return
        if plan is None:
            entry.skip = flow_reason
            return
        if stage_name is None:
            entry.skip = stage_reason
            entry.consequence = (plan, f", so flow {plan.slug} runs without it")
            plan.contributors.append(entry)
            return
        plan.contributors.append(entry)
        by_order = "order" in entry.identifiers or not entry.identifiers
        matches = [
            binding
            for binding in plan.stages
            if binding["stage"] == stage_name
            and (order is None or not by_order or binding["order"] == order)
        ]
        binding = matches[0] if matches else None
        if entry.state == "absent":
            if binding is not None:
                plan.stages.remove(binding)
            return
        if binding is not None and entry.state == "must_created":
            self._entry_problem(entry, "state must_created, but the binding exists")
            return
        if binding is not None and entry.state == "created":
            entry.used.update(entry.fields)
            self.bindings[entry.index] = (plan, binding)
            return
        if binding is None:
            binding = {
                "stage": stage_name,
                "order": order,
                **STAGE_BINDING_DEFAULTS,
                "policies": [],
            }
            plan.stages.append(binding)
        binding["order"] = order
        for key in ("evaluate_on_plan", "re_evaluate_policies"):
            binding[key] = self._flag(entry, key, binding[key])
        binding["policy_engine_mode"] = self._choice(
            entry, "policy_engine_mode", ENGINE_MODES, binding["policy_engine_mode"]
        )
        binding["invalid_response_action"] = self._choice(
            entry,
            "invalid_response_action",
            INVALID_RESPONSE_ACTIONS,
            binding["invalid_response_action"],
        )
        self.bindings[entry.index] = (plan, binding)

    def _order(self, entry: Entry) -> int | None:
        """A binding's order: required, except to find a binding to remove."""
        if entry.fields.get("order") is None:
            if entry.state != "absent":
                self._entry_problem(entry, "order is required")
            entry.used.add("order")
            return None
        return self._number(entry, "order", None)

    def _subject(self, entry: Entry) -> tuple[tuple[str, str] | None, str]:
        """What a policy binding checks: ("policy"|"group"|"user", name), or why it cannot."""
        values = {key: self._value(entry, key) for key in ("policy", "group", "user")}
        given = [key for key, value in values.items() if value is not None]
        if len(given) > 1:
            self._entry_problem(entry, "names more than one of policy, group and user")
            return None, ""
        if not given:
            return None, "its policy, group or user is empty (a !Find that found nothing?)"
        kind = given[0]
        value = values[kind]
        if kind == "policy":
            name, reason = self._policy_name(value, entry)
            return (("policy", name), "") if name else (None, reason)
        name = self._group_name(value) if kind == "group" else self._user_name(value)
        field_name = "name" if kind == "group" else "username"
        found = self.lookup.find(kind, {field_name: name}) if name else None
        if found:
            return (kind, found), ""
        if name:
            return None, f"Gatehouse has no {kind} {name!r} (create it, then import again)"
        return None, f"its {kind} {self._show(value)} is not in this blueprint or in Gatehouse"

    def _map_policy_binding(self, entry: Entry) -> None:
        target_value = self._value(entry, "target")
        target = self._entry_of(target_value)
        order = self._order(entry)
        if order is None and entry.state != "absent":
            return
        subject, subject_reason = self._subject(entry)
        if subject is None and not subject_reason:
            return  # a problem, named already
        if target is not None and target.model == STAGE_BINDING:
            if target.index not in self.bindings:
                entry.skip = f"the stage binding it belongs to ({target.place}) is skipped"
                return
            plan, stage_binding = self.bindings[target.index]
            holder = stage_binding["policies"]
            is_flow_gate = False
            described = (
                f"binding #{stage_binding['order']} of flow {plan.slug} "
                f"(stage {stage_binding['stage']})"
            )
        else:
            plan, reason = self._target_flow(target_value)
            if plan is None:
                entry.skip = reason
                return
            holder = plan.policies
            is_flow_gate = True
        plan.contributors.append(entry)
        if subject is None:
            if entry.state == "absent":
                return  # Gatehouse cannot have it, so there is nothing to remove
            entry.skip = subject_reason
            if is_flow_gate:
                plan.closed_gates.append(entry)
            else:
                entry.consequence = (
                    plan,
                    f"; {described} is imported without it, so that stage no longer depends on it",
                )
            return
        kind, name = subject
        matches = [
            binding
            for binding in holder
            if binding.get(kind) == name and (order is None or binding["order"] == order)
        ]
        binding = matches[0] if matches else None
        if entry.state == "absent":
            if binding is not None:
                holder.remove(binding)
            return
        if binding is not None and entry.state == "must_created":
            self._entry_problem(entry, "state must_created, but the binding exists")
            return
        if binding is not None and entry.state == "created":
            entry.used.update(entry.fields)
            return
        if binding is None:
            binding = {kind: name, "order": order, "negate": False, "enabled": True, "timeout": 30}
            binding["failure_result"] = False  # authentik's default: a failing policy is false
            holder.append(binding)
        binding["order"] = order
        for key in ("negate", "enabled", "failure_result"):
            binding[key] = self._flag(entry, key, binding.get(key))
        binding["timeout"] = self._number(entry, "timeout", binding["timeout"])

    def _close_gated_flows(self) -> None:
        for plan in self.flows.values():
            if plan.closed_gates:
                places = ", ".join(entry.place for entry in plan.closed_gates)
                plan.skip = (
                    f"its own policy binding ({places}) is skipped, and without that gate the "
                    "flow would let in whoever it keeps out"
                )
                if plan.entry is not None and plan.entry.skip is None:
                    plan.entry.skip = plan.skip
                for entry in plan.contributors:
                    if entry.skip is None:
                        entry.skip = f"its flow {plan.slug} is skipped ({places})"

    def _settle_components(self) -> None:
        """Stages, policies and prompts are written with the flows that use them."""
        imported = [plan for plan in self.flows.values() if plan.skip is None]
        stage_names = {binding["stage"] for plan in imported for binding in plan.stages}
        policy_names = {
            binding["policy"]
            for plan in imported
            for binding in plan.policies
            + [item for stage in plan.stages for item in stage["policies"]]
            if "policy" in binding
        }
        written = [
            component
            for component in self.components.values()
            if component.is_written and component.entry.skip is None
        ]
        stages = [item for item in written if item.entry.model in _types_of("stage")]
        policies = [item for item in written if item.entry.model in _types_of("policy")]
        for component in stages:
            self._settle_component(component, component.name in stage_names, imported)
        for component in stages:
            if component.entry.skip is None:
                policy_names.update(component.options.get("validation_policies", ()))
        for component in policies:
            self._settle_component(component, component.name in policy_names, imported)
        for index in self.prompts:
            entry = self.entries[index]
            if entry.skip is None and not any(
                self.entries[user].skip is None
                and user in self.components
                and self.components[user].is_written
                for user in self.users_of[index]
            ):
                entry.skip = "no prompt stage that Gatehouse imports uses it"

    def _settle_component(self, component: _Component, is_used: bool, imported: list) -> None:
        entry = component.entry
        if is_used:
            return
        users = [self.entries[index] for index in sorted(self.users_of[entry.index])]
        if users:
            places = ", ".join(user.place for user in users)
            entry.skip = f"what uses it is skipped ({places})"
        elif imported:
            self.standalone.append(component)
        else:
            entry.skip = (
                "Gatehouse imports stages and policies with a flow, and this blueprint has "
                "no flow it can import"
            )

    # -- documents

    def _documents(self) -> list[FlowDocument]:
        components = {}
        for component in self.components.values():
            if component.is_written and component.entry.skip is None:
                is_stage = component.entry.model in _types_of("stage")
                components[(is_stage, component.name)] = component
        documents = []
        imported = [plan for plan in self.flows.values() if plan.skip is None]
        for position, plan in enumerate(imported):
            extra = {id(component) for component in self.standalone} if position == 0 else set()
            stage_names = {binding["stage"] for binding in plan.stages}
            stages = [
                component
                for (is_stage, name), component in components.items()
                if is_stage and (name in stage_names or id(component) in extra)
            ]
            policy_names = {
                binding["policy"]
                for binding in plan.policies
                + [item for stage in plan.stages for item in stage["policies"]]
                if "policy" in binding
            }
            for component in stages:
                policy_names.update(component.options.get("validation_policies", ()))
            policies = [
                component
                for (is_stage, name), component in components.items()
                if not is_stage and (name in policy_names or id(component) in extra)
            ]
            document = {
                "version": 1,
                "flow": {
                    **plan.fields,
                    "policies": _by_order(plan.policies),
                    "stages": [
                        {**binding, "policies": _by_order(binding["policies"])}
                        for binding in _by_order(plan.stages)
                    ],
                },
                "stages": [_component_document(component) for component in stages],
                "policies": [_component_document(component) for component in policies],
            }
            try:
                documents.append(read_document(document))
            except FlowFileError as error:
                where = plan.entry.place if plan.entry is not None else "bindings to"
                self.problems.extend(
                    f"{self.prefix}{where} {FLOW} ({plan.slug}), as flow file: {problem}"
                    for problem in error.problems
                )
        return documents


def _component_document(component: _Component) -> dict:
    return {"name": component.name, "type": component.type, "options": component.options}
