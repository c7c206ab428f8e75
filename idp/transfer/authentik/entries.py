"""From a blueprint's entries to Gatehouse's objects: tags resolved, each entry mapped (flows
and bindings here, stages and policies by their packages' AuthentikModel), gates that cannot
be mapped closing their flows, and what is left out named. See the package's docstring."""

import functools
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field

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
from idp.providers.registry import PROVIDER_TYPES
from idp.stages.registry import STAGE_TYPES
from idp.transfer.authentik.documents import flow_documents
from idp.transfer.authentik.lookup import DatabaseLookup
from idp.transfer.authentik.source import EntrySource
from idp.transfer.authentik.tags import (
    CONDITION_MODES,
    Condition,
    Context,
    Env,
    Find,
    Format,
    If,
    KeyOf,
    Tag,
    Unsupported,
)
from idp.transfer.document import FlowDocument, FlowFileError, read_document

# -- authentik's models and what they become -----------------------------------------------------

FLOW = "authentik_flows.flow"
STAGE_BINDING = "authentik_flows.flowstagebinding"
POLICY_BINDING = "authentik_policies.policybinding"
GROUP = "authentik_core.group"
USER = "authentik_core.user"
EXPRESSION_POLICY = "authentik_policies_expression.expressionpolicy"
APPLY_BLUEPRINT = "authentik_blueprints.metaapplyblueprint"
APPLICATION = "authentik_core.application"

# Attributes of an application Gatehouse has no equivalent for, with the values that mean "off".
APPLICATION_OFF_VALUES = {
    "meta_publisher": ("",),
    "meta_icon": ("",),
    "group": ("",),
    "open_in_new_tab": (False,),
    "backchannel_providers": ([],),
}

# Attributes of a flow Gatehouse has no equivalent for, with the values that mean "off".
FLOW_OFF_VALUES = {"layout": ("stacked",), "background": ("",), "compatibility_mode": (False,)}
# authentik's own bookkeeping, with no behaviour: never worth a note.
BOOKKEEPING = {"pk", "managed"}

ENTRY_KEYS = {"model", "state", "conditions", "identifiers", "attrs", "permissions", "id"}
TOP_KEYS = {"version", "entries", "metadata", "context"}
STATES = ("present", "created", "must_created", "absent")
# What a flow is for, and who may run it, as authentik has them and Gatehouse does not: such a
# flow is left out (named), the rest of the file is imported. Anything else is a mistake.
AUTHENTIK_ONLY_DESIGNATION = re.compile(r"authorization")
AUTHENTIK_ONLY_REQUIREMENT = re.compile(r"require_[a-z_]+")
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


@functools.cache
def _provider_types() -> dict:
    """authentik provider model -> Gatehouse provider type name."""
    return {
        item.authentik.model: name
        for name, item in PROVIDER_TYPES.items()
        if item.authentik is not None
    }


def _mapping(kind: str, type_name: str):
    return (STAGE_TYPES if kind == "stage" else POLICY_TYPES)[type_name].authentik


@functools.cache
def _part_models() -> dict:
    """Models whose entries live inside a stage type's objects (a prompt stage's prompts):
    part model -> (the stage type's name, its mapping)."""
    return {
        part: (name, item.authentik)
        for name, item in STAGE_TYPES.items()
        if item.authentik is not None
        for part in item.authentik.parts
    }


def _stage_mapping(model: str):
    return _mapping("stage", _types_of("stage")[model])


def _registered_stage_type(model: str) -> str | None:
    return _types_of("stage").get(model)


def _registered_policy_type(model: str) -> str | None:
    return _types_of("policy").get(model)


def _off_values(model: str) -> dict:
    if model == FLOW:
        return FLOW_OFF_VALUES
    if model == APPLICATION:
        return APPLICATION_OFF_VALUES
    if type_name := _provider_types().get(model):
        return PROVIDER_TYPES[type_name].authentik.off_values
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
    if model in _part_models():
        return "part"
    if model == APPLICATION:
        return "application"
    if model in _provider_types():
        return "provider"
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
    if application.startswith("authentik_providers_"):
        return "Gatehouse has no such provider type (it has oauth2 and proxy in forward modes)"
    return "Gatehouse has no equivalent"


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


@dataclass(frozen=True)
class ShippedPart:
    """One of authentik's own objects a `!Find` names (a default prompt), as what Gatehouse
    ships that does the same (a field of a shipped prompt stage), and where that is."""

    name: str
    value: object = field(hash=False, compare=False)
    origin: str = ""


# -- the translation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    documents: list[FlowDocument]
    skipped: list[str]  # one line per entry or attribute that is not imported, with its place
    # One line per reference to one of authentik's own objects that became Gatehouse's own.
    resolved: list[str] = field(default_factory=list)


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
    policy_names: tuple = ()  # the policies its options name (a prompt stage's validation)


@dataclass
class _FlowPlan:
    """One flow as a version-1 document in the making, starting from what the database has."""

    slug: str
    fields: dict
    policies: list  # policy bindings on the flow, version-1 form
    stages: list  # stage bindings, version-1 form, each with its "policies"
    entry: Entry | None = None
    contributors: list = field(default_factory=list)  # entries that change this flow
    # What gates it that cannot be imported: (entry, what it is); any of them closes the flow.
    closed_gates: list = field(default_factory=list)
    skip: str | None = None


@dataclass
class _ProviderPlan:
    """A provider entry as the `provider:` of a version-1 application."""

    entry: Entry
    fields: dict
    flow_slugs: tuple = ()  # the flows of this blueprint it names


@dataclass
class _ApplicationPlan:
    """One application as a version-1 document's entry, starting from what the database has.
    Its policy bindings are gates like a flow's: one that cannot be mapped leaves it out."""

    slug: str
    fields: dict
    policies: list
    entry: Entry
    provider: _ProviderPlan | None = None
    contributors: list = field(default_factory=list)
    closed_gates: list = field(default_factory=list)
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
        self.parts: dict[int, object] = {}  # part entry (a prompt) -> what it became
        self.components: dict[int, _Component] = {}  # stage or policy entry -> component
        self.flows: dict[str, _FlowPlan] = {}  # slug -> plan
        self.flow_of_entry: dict[int, _FlowPlan] = {}
        self.bindings: dict[int, tuple[_FlowPlan, dict]] = {}  # stage binding entry -> binding
        self.users_of: dict[int, set[int]] = defaultdict(set)  # entry -> entries that use it
        self.standalone: list[_Component] = []
        self.resolved: list[str] = []
        self.providers: dict[int, _ProviderPlan] = {}  # provider entry -> what it becomes
        self.applications: dict[int, _ApplicationPlan] = {}  # application entry -> plan

    def translate(self) -> Translation:
        _check_size(self.document, self.prefix)
        for step in (self._read_structure, self._resolve_entries, self._map_entries):
            step()
            if self.problems:
                raise FlowFileError(self.problems)
        documents = self._documents()
        if self.problems:
            raise FlowFileError(self.problems)
        return Translation(documents, self._skipped_lines(), self.resolved)

    # -- problems and notes

    def _problem(self, place: str, message: str, line: int | None = None) -> None:
        where = place + (f" (line {line})" if line else "")
        self.problems.append(f"{self.prefix}{where}: {message}" if where else self.prefix + message)

    def entry_problem(self, entry: Entry, message: str, line: int | None = None) -> None:
        where = f"{entry.place} {entry.model}".rstrip()
        self._problem(where, message, line or entry.line)

    @staticmethod
    def _note(entry: Entry, subject: str, why: str) -> None:
        entry.notes.append(f"not imported: {subject} ({why})")

    def show(self, value) -> str:
        if isinstance(value, EntryRef):
            target = self.entries[value.index]
            return target.key or target.raw.get("id") or target.place
        if isinstance(value, Existing | ShippedPart):
            return value.name
        if isinstance(value, list):
            return "[" + ", ".join(self.show(item) for item in value) + "]"
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
            f"{key}={self.show(value)}"
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
                    lines.append(f"{self.prefix}{self._label(entry)}: {entry.skip}")
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
            self.entry_problem(entry, f"state must be one of {', '.join(STATES)}, not {state!r}")
            return
        entry.state = state
        parts = {}
        for key in ("identifiers", "attrs"):
            value = self._resolve(raw.get(key), entry)
            if value is None:
                value = {}
            if not isinstance(value, dict):
                self.entry_problem(entry, f"{key} must be a mapping")
                return
            parts[key] = value
        entry.identifiers = parts["identifiers"]
        entry.fields = {**parts["attrs"], **parts["identifiers"]}
        conditions = raw.get("conditions") or []
        if not isinstance(conditions, list):
            self.entry_problem(entry, "conditions must be a list")
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
            self.entry_problem(entry, message, tag.line)

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
            self.show(value) if isinstance(value, EntryRef | Existing) else value
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
        if model in _part_models():
            mapping = _part_models()[model][1]
            shipped = mapping.find_shipped_part(model, dict(conditions), self.lookup.stage)
            if shipped is not None:
                return ShippedPart(str(dict(conditions).get("name", model)), *shipped)
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

    # -- reading values (what EntrySource reads, for the reader's own models)

    def _value(self, entry: Entry, key: str):
        return EntrySource(self, entry).value(key)

    def _text(self, entry: Entry, key: str, default=None, required=False):
        return EntrySource(self, entry).text(key, default, required)

    def _flag(self, entry: Entry, key: str, default):
        return EntrySource(self, entry).flag(key, default)

    def _number(self, entry: Entry, key: str, default):
        return EntrySource(self, entry).number(key, default)

    def _choice(self, entry: Entry, key: str, choices, default):
        return EntrySource(self, entry).choice(key, choices, default)

    def _list(self, entry: Entry, key: str) -> list | None:
        return EntrySource(self, entry).items(key)

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
        unreadable_bindings = []
        for entry in self.entries:
            kind = _kind(entry.model)
            is_binding = kind in ("stage_binding", "policy_binding") and entry.state != "absent"
            if entry.skip is not None:
                # Conditions Gatehouse cannot evaluate: authentik may well apply the binding.
                if is_binding and entry.is_reported:
                    unreadable_bindings.append(entry)
                continue
            if kind is None:
                entry.skip = _unmapped_reason(entry)
                applied = entry.fields.get("identifiers")
                if entry.model == APPLY_BLUEPRINT and isinstance(applied, dict):
                    names = ", ".join(f"{key}={self.show(value)}" for key, value in applied.items())
                    entry.skip = f"{entry.skip} ({names})"
                continue
            unsupported = _first_unsupported(entry.fields)
            if unsupported is not None:
                entry.skip = (
                    f"it uses {unsupported.name} (line {unsupported.line}), "
                    "which Gatehouse does not evaluate"
                )
                if is_binding:
                    unreadable_bindings.append(entry)
                continue
            by_kind[kind].append(entry)
        # Leaves first, so that what refers to them knows whether they are imported.
        for kind, mapper in (
            ("part", self._map_part),
            ("policy", self._map_policy),
            ("stage", self._map_stage),
            ("flow", self._map_flow),
            ("stage_binding", self._map_stage_binding),
            ("provider", self._map_provider),
            ("application", self._map_application),
            ("policy_binding", self._map_policy_binding),
        ):
            if kind == "stage":
                # A stage that names other stages is mapped once they are known.
                by_kind[kind].sort(key=lambda entry: _stage_mapping(entry.model).names_stages)
            for entry in by_kind[kind]:
                mapper(entry)
        self._close_unreadable_bindings(unreadable_bindings)
        self._close_gated_flows()
        self._settle_applications()
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
            # A credential is named, never shown.
            shown = "(not shown)" if "secret" in key else self.show(value)
            self._note(entry, f"{key} {shown}", "Gatehouse has no equivalent")

    def _settle_state(self, entry: Entry, name: str, exists: bool, what: str) -> bool:
        """False when the entry asks for nothing Gatehouse will write."""
        if entry.state == "absent":
            entry.skip = (
                f"state absent: Gatehouse does not delete {what}s on import; delete it in the admin"
            )
            return False
        if entry.state == "must_created" and exists:
            self.entry_problem(entry, f"state must_created, but the {what} {name!r} exists")
            return False
        return True

    def _map_part(self, entry: Entry) -> None:
        if entry.state == "absent":
            entry.used.update(entry.fields)
            entry.skip = "state absent: it lives inside the stages that list it; remove it there"
            return
        read_part = _part_models()[entry.model][1].parts[entry.model]
        value = read_part(EntrySource(self, entry))
        if value is not None and entry.skip is None:
            self.parts[entry.index] = value

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
            self.entry_problem(entry, f"cannot become a {type_name} {kind}: {error}")
            return
        self.components[entry.index] = _Component(
            entry,
            name,
            type_name,
            options_to_mapping(parsed),
            policy_names=tuple(registry[type_name].referenced_policies(parsed))
            if kind == "stage"
            else (),
        )

    def part_values(self, entry: Entry, key: str) -> list:
        """What the part entries (prompts) an attribute lists became, in its order."""
        values = []
        for position, value in enumerate(self._list(entry, key) or []):
            if isinstance(value, ShippedPart):
                values.append(value.value)
                self.resolved.append(
                    f"{self.prefix}{self._label(entry)}: {key}[{position}] {value.name} is "
                    f"one of authentik's own; Gatehouse uses its {value.origin}"
                )
                continue
            target = self._entry_of(value)
            if value is None:
                self._note(
                    entry,
                    f"{key}[{position}]",
                    "its !Find found nothing here, in Gatehouse or among the shipped fields",
                )
                continue
            if target is None or target.model not in _part_models():
                self._note(
                    entry,
                    f"{key}[{position}] {self.show(value)}",
                    "it is not an entry of this blueprint that it can list",
                )
                continue
            self.users_of[target.index].add(entry.index)
            if target.index in self.parts:  # a skipped part is named on its own entry
                values.append(self.parts[target.index])
        return values

    def flow_link(self, entry: Entry, key: str) -> str:
        value = self._value(entry, key)
        if value is None:
            return ""
        target = self._entry_of(value)
        if target is not None and target.model == FLOW and target.key:
            return target.key
        if isinstance(value, Existing) and value.kind == "flow":
            return value.name
        self._note(entry, f"{key} {self.show(value)}", "it is not a flow here or in Gatehouse")
        return ""

    # -- references to other entries

    def policy_name(self, value, user: Entry) -> tuple[str | None, str]:
        return self._component_name(value, user, _types_of("policy"), "policy")

    def stage_name(self, value, user: Entry) -> tuple[str | None, str]:
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
        return None, f"its {kind} {self.show(value)} is not in this blueprint or in Gatehouse"

    def group_name(self, value) -> str | None:
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
                shown = self.show(value)
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
        return None, f"its target {self.show(value)} is not a flow in this blueprint or Gatehouse"

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
                ("designation", DESIGNATIONS, AUTHENTIK_ONLY_DESIGNATION),
                ("authentication", AUTHENTICATION_REQUIREMENTS, AUTHENTIK_ONLY_REQUIREMENT),
                ("denied_action", DENIED_ACTIONS, None),
                ("policy_engine_mode", ENGINE_MODES, None),
            ):
                if key not in entry.fields:
                    continue
                value = self._text(entry, key)
                is_foreign = foreign is not None and isinstance(value, str)
                if is_foreign and value not in choices and foreign.fullmatch(value):
                    # Who may run the flow (require_token, require_outpost...): one flow Gatehouse
                    # cannot guard the same way is left out, not the whole file.
                    entry.skip = f"{key} {value} has no Gatehouse equivalent"
                    return
                fields[key] = self._choice(entry, key, choices, None)
            if not exists:
                for key in ("name", "designation"):
                    if entry.fields.get(key) is None:
                        self.entry_problem(entry, f"{key} is required for a new flow")
            self._flow_plan(slug, base).fields.update(fields)
        plan = self._flow_plan(slug, base)
        plan.entry = plan.entry or entry
        self.flow_of_entry[entry.index] = plan

    def _map_stage_binding(self, entry: Entry) -> None:
        plan, flow_reason = self._target_flow(self._value(entry, "target"))
        stage_name, stage_reason = self.stage_name(self._value(entry, "stage"), entry)
        order = self._order(entry)
        if order is None and entry.state != "absent":
            return
        if plan is None:
            entry.skip = flow_reason
            return
        if stage_name is None:
            entry.skip = stage_reason
            plan.contributors.append(entry)
            if entry.state != "absent":
                plan.closed_gates.append(
                    (entry, f"its stage binding {entry.place} ({stage_reason})")
                )
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
            self.entry_problem(entry, "state must_created, but the binding exists")
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
                self.entry_problem(entry, "order is required")
            entry.used.add("order")
            return None
        return self._number(entry, "order", None)

    def _subject(self, entry: Entry) -> tuple[tuple[str, str] | None, str]:
        """What a policy binding checks: ("policy"|"group"|"user", name), or why it cannot."""
        values = {key: self._value(entry, key) for key in ("policy", "group", "user")}
        given = [key for key, value in values.items() if value is not None]
        if len(given) > 1:
            self.entry_problem(entry, "names more than one of policy, group and user")
            return None, ""
        if not given:
            return None, "its policy, group or user is empty (a !Find that found nothing?)"
        kind = given[0]
        value = values[kind]
        if kind == "policy":
            name, reason = self.policy_name(value, entry)
            return (("policy", name), "") if name else (None, reason)
        name = self.group_name(value) if kind == "group" else self._user_name(value)
        field_name = "name" if kind == "group" else "username"
        found = self.lookup.find(kind, {field_name: name}) if name else None
        if found:
            return (kind, found), ""
        if name:
            return None, f"Gatehouse has no {kind} {name!r} (create it, then import again)"
        return None, f"its {kind} {self.show(value)} is not in this blueprint or in Gatehouse"

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
        elif target is not None and target.model == APPLICATION:
            plan = self.applications.get(target.index)
            if plan is None:
                entry.skip = f"its application {target.key or target.place} is skipped"
                return
            holder = plan.policies
            is_flow_gate = True
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
                plan.closed_gates.append((entry, f"its own policy binding ({entry.place})"))
            else:
                plan.closed_gates.append(
                    (entry, f"the policy binding {entry.place} on {described} ({subject_reason})")
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
            self.entry_problem(entry, "state must_created, but the binding exists")
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

    def _close_unreadable_bindings(self, entries: list) -> None:
        """A binding left out before it was mapped (it needs a tag Gatehouse does not evaluate)
        closes the flow it belongs to, or every flow of the blueprint when that is unknown."""
        for entry in entries:
            gate = (entry, f"the binding {entry.place} ({entry.skip})")
            target = self._entry_of(entry.fields.get("target"))
            if target is not None and target.model == APPLICATION:
                if target.index in self.applications:
                    self.applications[target.index].closed_gates.append(gate)
                continue
            plan = self._plan_of_target(entry.fields.get("target"))
            for closed in [plan] if plan is not None else self.flows.values():
                closed.closed_gates.append(gate)

    def _plan_of_target(self, value, depth: int = 0) -> "_FlowPlan | None":
        """The flow a binding's target is, or belongs to (a policy binding's stage binding)."""
        if isinstance(value, Existing) and value.kind == "flow":
            return self.flows.get(value.name)
        target = self._entry_of(value)
        if target is None:
            return None
        if target.model == FLOW:
            return self.flow_of_entry.get(target.index) or self.flows.get(target.key or "")
        if target.model == STAGE_BINDING and depth == 0:
            if target.index in self.bindings:
                return self.bindings[target.index][0]
            return self._plan_of_target(target.fields.get("target"), 1)
        return None

    def _close_gated_flows(self) -> None:
        for plan in self.flows.values():
            if plan.closed_gates:
                places = ", ".join(entry.place for entry, _ in plan.closed_gates)
                gates = "; ".join(what for _, what in plan.closed_gates)
                plan.skip = (
                    f"{gates} cannot be imported, and without that gate the flow would not "
                    "stop whom it stops in authentik"
                )
                if plan.entry is not None and plan.entry.skip is None:
                    plan.entry.skip = plan.skip
                for entry in plan.contributors:
                    if entry.skip is None:
                        entry.skip = f"its flow {plan.slug} is skipped ({places})"

    def _settle_components(self) -> None:
        """Stages, policies and their parts (prompts) are written with the flows that use
        them."""
        imported = [plan for plan in self.flows.values() if plan.skip is None]
        stage_names = {binding["stage"] for plan in imported for binding in plan.stages}
        policy_names = {
            binding["policy"]
            for plan in imported
            for binding in plan.policies
            + [item for stage in plan.stages for item in stage["policies"]]
            if "policy" in binding
        }
        policy_names |= self._application_policy_names()
        written = [
            component
            for component in self.components.values()
            if component.is_written and component.entry.skip is None
        ]
        stages = [item for item in written if item.entry.model in _types_of("stage")]
        policies = [item for item in written if item.entry.model in _types_of("policy")]
        for component in stages:
            # A stage another imported stage names (the password stage an identification
            # stage asks with) is written, unbound, beside them.
            is_named = any(
                user in self.components and self.components[user].name in stage_names
                for user in self.users_of[component.entry.index]
                if self.entries[user].skip is None
            )
            if is_named and component.name not in stage_names:
                self.standalone.append(component)
                continue
            self._settle_component(component, component.name in stage_names, imported)
        for component in stages:
            if component.entry.skip is None:
                policy_names.update(component.policy_names)
        for component in policies:
            self._settle_component(component, component.name in policy_names, imported)
        for index in self.parts:
            entry = self.entries[index]
            if entry.skip is None and not any(
                self.entries[user].skip is None
                and user in self.components
                and self.components[user].is_written
                for user in self.users_of[index]
            ):
                entry.skip = "no stage that Gatehouse imports lists it"

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

    # -- applications and providers

    def _map_provider(self, entry: Entry) -> None:
        type_name = _provider_types()[entry.model]
        provider_type = PROVIDER_TYPES[type_name]
        if entry.state == "absent":
            entry.used.update(entry.fields)
            entry.skip = "state absent: a provider belongs to its application; delete that"
            return
        entry.used.add("name")
        source = EntrySource(self, entry)
        options = dict(provider_type.authentik.new_options)
        provider_type.authentik.read_options(source, options)
        if entry.skip is not None:
            return
        try:
            parsed = provider_type.parse_options(options)
        except OptionsError as error:
            entry.skip = f"it cannot become a {type_name} provider: {error}"
            return
        fields = {"type": type_name, "options": options_to_mapping(parsed)}
        if provider_type.authentik.client_id_attribute:
            client_id = source.text(provider_type.authentik.client_id_attribute, "")
            if client_id:
                fields["client_id"] = client_id
        flow_slugs = []
        for key in ("authorization_flow", "authentication_flow", "invalidation_flow"):
            if not source.has(key):
                continue
            target = self._entry_of(entry.fields.get(key))
            slug = source.flow_link(key)
            if slug:
                fields[key] = slug
                if target is not None:
                    flow_slugs.append(slug)
            elif entry.fields.get(key) is None and key == "authorization_flow":
                self._note(
                    entry, f"{key} none", "Gatehouse's default authorization flow is used instead"
                )
        self.providers[entry.index] = _ProviderPlan(entry, fields, tuple(flow_slugs))

    def _map_application(self, entry: Entry) -> None:
        slug = self._text(entry, "slug", required=True)
        if slug is None:
            return
        base = self.lookup.application(slug)
        if not self._settle_state(entry, slug, base is not None, "application"):
            return
        if entry.state == "created" and base is not None:
            entry.used.update(entry.fields)
            entry.skip = "state created, and Gatehouse has this application already: kept as it is"
            return
        provider_value = self._value(entry, "provider")
        target = self._entry_of(provider_value)
        if target is None or target.index not in self.providers:
            if target is not None and target.skip is not None:
                entry.skip = f"its provider {target.key or target.place} is skipped ({target.skip})"
            elif target is not None:
                entry.skip = f"its provider {target.key or target.place} is not one Gatehouse has"
            else:
                entry.skip = (
                    f"its provider {self.show(provider_value)} is not a provider of this blueprint"
                )
            return
        provider = self.providers[target.index]
        self.users_of[target.index].add(entry.index)
        fields = dict(base or {"slug": slug})
        fields.pop("policies", None)
        for key, attribute in (
            ("name", "name"),
            ("launch_url", "meta_launch_url"),
            ("description", "meta_description"),
        ):
            if self._value(entry, attribute) is not None:
                fields[key] = self._text(entry, attribute, "")
        if "policy_engine_mode" in entry.fields:
            fields["policy_engine_mode"] = self._choice(
                entry, "policy_engine_mode", ENGINE_MODES, "any"
            )
        if not fields.get("name"):
            self.entry_problem(entry, "name is required for a new application")
            return
        fields["provider"] = dict(provider.fields)
        policies = [dict(binding) for binding in (base or {}).get("policies", [])]
        self.applications[entry.index] = _ApplicationPlan(slug, fields, policies, entry, provider)

    def _settle_applications(self) -> None:
        """An application whose gates cannot all be mapped, or whose provider names a flow of
        this blueprint that is left out, is left out too; providers no imported application
        uses are named."""
        for plan in self.applications.values():
            skipped_flows = [
                slug
                for slug in plan.provider.flow_slugs
                if slug in self.flows and self.flows[slug].skip is not None
            ]
            if plan.closed_gates:
                gates = "; ".join(what for _, what in plan.closed_gates)
                plan.skip = (
                    f"{gates} cannot be imported, and without that gate the application would "
                    "be open to whom authentik refuses"
                )
            elif skipped_flows:
                plan.skip = f"its provider's flow {', '.join(skipped_flows)} is skipped"
            if plan.skip is not None:
                plan.entry.skip = plan.skip
                for entry in plan.contributors:
                    if entry.skip is None:
                        entry.skip = f"its application {plan.slug} is skipped"
        for index, provider in self.providers.items():
            if provider.entry.skip is None and not any(
                user in self.applications and self.applications[user].skip is None
                for user in self.users_of[index]
            ):
                provider.entry.skip = "no application that Gatehouse imports uses it"

    def _application_policy_names(self) -> set[str]:
        return {
            binding["policy"]
            for plan in self.applications.values()
            if plan.skip is None
            for binding in plan.policies
            if "policy" in binding
        }

    def _application_document(self) -> list[FlowDocument]:
        plans = [plan for plan in self.applications.values() if plan.skip is None]
        if not plans:
            return []
        names = self._application_policy_names()
        policies = [
            {"name": item.name, "type": item.type, "options": item.options}
            for item in self.components.values()
            if item.is_written
            and item.entry.skip is None
            and item.entry.model in _types_of("policy")
            and item.name in names
        ]
        document = {
            "version": 1,
            "applications": [
                {**plan.fields, "policies": sorted(plan.policies, key=lambda b: b["order"])}
                for plan in plans
            ],
            "policies": policies,
        }
        try:
            return [read_document(document)]
        except FlowFileError as error:
            self.problems.extend(
                f"{self.prefix}{APPLICATION}, as flow file: {problem}" for problem in error.problems
            )
            return []

    # -- documents

    def _documents(self) -> list[FlowDocument]:
        written = [
            component
            for component in self.components.values()
            if component.is_written and component.entry.skip is None
        ]
        stage_models = _types_of("stage")
        documents = []
        for plan, document in flow_documents(
            [plan for plan in self.flows.values() if plan.skip is None],
            [item for item in written if item.entry.model in stage_models],
            [item for item in written if item.entry.model not in stage_models],
            self.standalone,
        ):
            try:
                documents.append(read_document(document))
            except FlowFileError as error:
                where = plan.entry.place if plan.entry is not None else "bindings to"
                self.problems.extend(
                    f"{self.prefix}{where} {FLOW} ({plan.slug}), as flow file: {problem}"
                    for problem in error.problems
                )
        return documents + self._application_document()
