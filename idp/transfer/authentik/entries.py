"""From a blueprint's entries to Gatehouse's objects: tags resolved, each entry mapped (by job:
flows and bindings in `flows`, stages and policies by their packages' AuthentikModel in
`components`, applications and providers in `applications`, each a part of the one reader
here), gates that cannot be mapped closing their flows, and what is left out named. See the
package's docstring."""

import json
import os
from collections import defaultdict
from collections.abc import Hashable
from dataclasses import dataclass, field, replace

from idp.transfer.authentik.applications import ApplicationMapping
from idp.transfer.authentik.applied import AppliedMapping
from idp.transfer.authentik.components import ComponentMapping
from idp.transfer.authentik.documents import flow_documents
from idp.transfer.authentik.flows import FlowMapping
from idp.transfer.authentik.lookup import DatabaseLookup
from idp.transfer.authentik.model import (
    APPLY_BLUEPRINT,
    BOOKKEEPING,
    ENTRY_KEYS,
    FIND_FIELDS,
    FLOW,
    GROUP,
    INSTEAD,
    SCOPE_MAPPING,
    STATES,
    TOP_KEYS,
    USER,
    Entry,
    EntryRef,
    Existing,
    ShippedPart,
    _ApplicationPlan,
    _Component,
    _database_kind,
    _FlowPlan,
    _kind,
    _off_values,
    _part_models,
    _ProviderPlan,
    _stage_mapping,
    _types_of,
    _unmapped_reason,
    current_model,
)
from idp.transfer.authentik.scope_mappings import ScopeMappingReading, built_in_scope
from idp.transfer.authentik.sizes import (
    MAX_FORMAT_WIDTH,
    MAX_VALUES,
    check_size,
    too_wide,
    values_in,
)
from idp.transfer.authentik.source import EntrySource
from idp.transfer.authentik.tags import (
    CONDITION_MODES,
    AtIndex,
    Condition,
    Context,
    Enumerate,
    Env,
    Find,
    Format,
    If,
    Index,
    KeyOf,
    ParseJSON,
    Tag,
    Unsupported,
    Value,
)
from idp.transfer.document import FlowDocument, FlowFileError, read_document

# -- the translation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Translation:
    documents: list[FlowDocument]
    skipped: list[str]  # one line per entry or attribute that is not imported, with its place
    # One line per reference to one of authentik's own objects that became Gatehouse's own.
    resolved: list[str] = field(default_factory=list)
    # One line per binding a declared flow had that the file no longer gives it.
    replaced: list[str] = field(default_factory=list)


def read_blueprint(document: dict, source: str = "", lookup=None, applied=None) -> Translation:
    """Map a loaded blueprint; raises FlowFileError naming every problem with its place.
    `applied` is what `applied.plan_imports` found for the file's metaapplyblueprint entries
    (None: no folder was searched)."""
    translator = _Translator(document, source, lookup or DatabaseLookup())
    translator.applied = applied
    return translator.translate()


# What authentik's importer puts in every blueprint's context (Importer.default_context):
# Gatehouse has no enterprise licence and none of authentik's permission models.
LICENSED = "goauthentik.io/enterprise/licensed"
AUTHENTIK_CONTEXT = {LICENSED: False, "goauthentik.io/rbac/models": {}}


def _needs_licence(condition) -> bool:
    return isinstance(condition, Context) and condition.key == LICENSED


# Gatehouse's own settings, the secret key and the database's address among them: a
# blueprint that reads one would write it where visitors see it (a title, a message).
OWN_SETTINGS_PREFIX = "IDP_"
SHOWN_ITEMS = 10  # of a list named in a message


def _deep_merge(into: dict, new: dict) -> None:
    """As authentik's !Enumerate MAP merges its items: mappings deeply, lists added to."""
    for key, value in new.items():
        if isinstance(into.get(key), dict) and isinstance(value, dict):
            _deep_merge(into[key], value)
        elif isinstance(into.get(key), list) and isinstance(value, list):
            into[key] = into[key] + value
        else:
            into[key] = value


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


class _Translator(
    ComponentMapping, FlowMapping, ScopeMappingReading, ApplicationMapping, AppliedMapping
):
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
        # The items the !Enumerate tags being resolved are at, innermost last: (index, value).
        self.enumerations: list[tuple] = []
        self.enumerated = 0
        self.scope_mappings: dict = {}  # scope mapping entry -> what it becomes

    def translate(self) -> Translation:
        check_size(self.document, self.prefix)
        for step in (self._read_structure, self._resolve_entries, self._map_entries):
            step()
            if self.problems:
                raise FlowFileError(self.problems)
        documents = self._documents()
        if self.problems:
            raise FlowFileError(self.problems)
        return Translation(documents, self._skipped_lines(), self.resolved, self.replaced_lines())

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

    def note_resolved(self, entry: Entry, line: str) -> None:
        self.resolved.append(f"{self.prefix}{self._label(entry)}: {line}")

    def show(self, value) -> str:
        if isinstance(value, EntryRef):
            target = self.entries[value.index]
            return target.key or target.raw.get("id") or target.place
        if isinstance(value, Existing | ShippedPart):
            return value.name
        if isinstance(value, list):
            shown = [self.show(item) for item in value[:SHOWN_ITEMS]]
            more = ", ..." if len(value) > SHOWN_ITEMS else ""
            return "[" + ", ".join(shown) + more + "]"
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
        self.context = {**AUTHENTIK_CONTEXT, **self._resolve(context, None)}

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
        entry.model = current_model(model.strip().lower())
        if entry.model != model.strip().lower():
            self.note_resolved(entry, f"{model.strip()} is read as its current name")
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
            entry.skip = f"its conditions use {unsupported.name}, {unsupported.reason}"
        elif not all(results):
            # As in authentik: an entry whose conditions are false is not part of the blueprint.
            entry.skip = "its conditions are false"
            entry.is_reported = False
            if any(_needs_licence(condition) for condition in conditions):
                # False only because Gatehouse has no enterprise licence: named.
                entry.skip = f"it is only for licensed authentik ({LICENSED} is false here)"
                entry.is_reported = True
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
                    return self._environment(tag, key, entry)
                if key in self.context:
                    return self.context[key]
                return self._resolve(tag.default, entry)
            case Enumerate():
                return self._enumerate(tag, entry)
            case Index() | Value():
                if tag.depth >= len(self.enumerations):
                    name = type(tag).__name__
                    self._tag_problem(
                        entry, tag, f"!{name} {tag.depth}: not inside that many !Enumerate tags"
                    )
                    return None
                index, value = self.enumerations[-(tag.depth + 1)]
                return index if isinstance(tag, Index) else value
            case AtIndex():
                return self._at_index(tag, entry)
            case ParseJSON():
                try:
                    return json.loads(tag.text)
                except ValueError as error:
                    self._tag_problem(entry, tag, f"!ParseJSON: not JSON ({error})")
                    return None
                except RecursionError:
                    self._tag_problem(entry, tag, "!ParseJSON: nested too deeply")
                    return None
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

    def _environment(self, tag: Env, key: str, entry: Entry | None):
        """The importing machine's environment, read now (as authentik reads its own when it
        applies the blueprint). A variable that is not set and has no default would become
        an empty value in authentik; here what needs it is left out, named."""
        if key.upper().startswith(OWN_SETTINGS_PREFIX):
            self._tag_problem(entry, tag, f"!Env {key}: Gatehouse's own settings are not read")
            return None
        value = os.environ.get(key)
        if value:
            if entry is not None:
                self.note_resolved(entry, f"!Env {key} is read from this machine's environment")
            return value
        if tag.default is not None:
            return self._resolve(tag.default, entry)
        return Unsupported(tag.line, f"!Env {key}", "which is not set here and has no default")

    def _enumerate(self, tag: Enumerate, entry: Entry | None):
        iterable = self._resolve(tag.iterable, entry)
        if isinstance(iterable, Unsupported):
            return iterable
        if isinstance(iterable, dict):
            items = list(iterable.items())
        elif isinstance(iterable, list | str):
            items = list(enumerate(iterable))
        else:
            self._tag_problem(entry, tag, "!Enumerate takes a list or a mapping to go through")
            return None
        self.enumerated += len(items)
        if self.enumerated > MAX_VALUES:
            self._tag_problem(entry, tag, "!Enumerate makes too many values")
            return None
        result = [] if tag.output == "SEQ" else {}
        for item in items:
            self.enumerations.append(item)
            try:
                value = self._resolve(tag.body, entry)
            finally:
                self.enumerations.pop()
            # What each item makes counts too: a body that copies a long list is that long.
            self.enumerated += values_in(value, MAX_VALUES - self.enumerated + 1)
            if self.enumerated > MAX_VALUES:
                self._tag_problem(entry, tag, "!Enumerate makes too many values")
                return None
            if tag.output == "SEQ":
                result.append(value)
            elif isinstance(value, list | tuple) and len(value) == 2:
                if not isinstance(value[0], Hashable):
                    self._tag_problem(entry, tag, "!Enumerate MAP keys must be text or numbers")
                    return None
                _deep_merge(result, {value[0]: value[1]})
            elif isinstance(value, dict):
                _deep_merge(result, value)
            else:
                self._tag_problem(
                    entry, tag, "!Enumerate MAP items must be [key, value] or mappings"
                )
                return None
        return result

    def _at_index(self, tag: AtIndex, entry: Entry | None):
        container = self._resolve(tag.container, entry)
        key = self._resolve(tag.key, entry)
        for value in (container, key):
            if isinstance(value, Unsupported):
                return value
        if isinstance(container, list):
            if (
                isinstance(key, int)
                and not isinstance(key, bool)
                and -len(container) <= key < len(container)
            ):
                return container[key]
            if not isinstance(key, int) or isinstance(key, bool):
                self._tag_problem(entry, tag, f"!AtIndex: {self.show(key)} is not a list index")
                return None
        elif isinstance(container, dict):
            if not isinstance(key, Hashable):
                self._tag_problem(entry, tag, f"!AtIndex: {self.show(key)} is not a key")
                return None
            if key in container:
                return container[key]
        else:
            self._tag_problem(entry, tag, "!AtIndex takes a list or a mapping first")
            return None
        if tag.has_default:
            return self._resolve(tag.default, entry)
        self._tag_problem(entry, tag, f"!AtIndex: no item {self.show(key)} and no default")
        return None

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
        if too_wide(template):
            self._tag_problem(
                entry, tag, f"!Format: widths and precisions above {MAX_FORMAT_WIDTH} are refused"
            )
            return ""
        try:
            return template % shown
        except (TypeError, ValueError, OverflowError) as error:
            self._tag_problem(entry, tag, f"!Format {self.show(template)!r}: {error}")
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
        model = current_model(model.lower())
        if not conditions:
            return None
        for candidate in self.entries:
            # An entry cannot find itself: in authentik it does not exist yet when it is read.
            if candidate is not entry and self._matches(candidate, model, conditions):
                return EntryRef(candidate.index)
        if model == SCOPE_MAPPING:
            return built_in_scope(dict(conditions))
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
        if not isinstance(raw_model, str) or current_model(raw_model.strip().lower()) != model:
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
            if entry.model == APPLY_BLUEPRINT:
                self._map_applied(entry)
                continue
            if kind is None:
                entry.skip = _unmapped_reason(entry)
                continue
            unsupported = _first_unsupported(entry.fields)
            if unsupported is not None:
                entry.skip = (
                    f"it uses {unsupported.name} (line {unsupported.line}), {unsupported.reason}"
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
            ("scope_mapping", self._map_scope_mapping),
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
            self._note(entry, f"{key} {shown}", INSTEAD.get(key, "Gatehouse has no equivalent"))

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

    # -- documents

    def _documents(self) -> list[FlowDocument]:
        written = [
            component
            for component in self.components.values()
            if component.is_written and component.entry.skip is None
        ]
        stage_models = _types_of("stage")
        documents = []
        for plan, document, places in flow_documents(
            [plan for plan in self.flows.values() if plan.skip is None],
            [item for item in written if item.entry.model in stage_models],
            [item for item in written if item.entry.model not in stage_models],
            self.standalone,
        ):
            try:
                documents.append(replace(read_document(document), places=places))
            except FlowFileError as error:
                where = plan.entry.place if plan.entry is not None else "bindings to"
                self.problems.extend(
                    f"{self.prefix}{where} {FLOW} ({plan.slug}), as flow file: {problem}"
                    for problem in error.problems
                )
        return documents + self._application_document()
