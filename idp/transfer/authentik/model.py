"""authentik's models and what they become in Gatehouse, what references resolve to, and the
plans the reader (`entries`) fills in: shared by the modules that map entries by job."""

import functools
import re
from dataclasses import dataclass, field

from idp.policies.registry import POLICY_TYPES
from idp.providers.registry import PROVIDER_TYPES
from idp.stages.registry import STAGE_TYPES

# -- authentik's models and what they become -----------------------------------------------------

FLOW = "authentik_flows.flow"
STAGE_BINDING = "authentik_flows.flowstagebinding"
POLICY_BINDING = "authentik_policies.policybinding"
GROUP = "authentik_core.group"
USER = "authentik_core.user"
APPLY_BLUEPRINT = "authentik_blueprints.metaapplyblueprint"
APPLICATION = "authentik_core.application"
SCOPE_MAPPING = "authentik_providers_oauth2.scopemapping"

INVITATION = "authentik_stages_invitation.invitation"
# Models authentik has renamed (a migration renamed the table): the old name, as older
# exports and blueprints still write it -> the current one.
RENAMED_MODELS = {
    "authentik_stages_authenticator_webauthn.authenticatewebauthnstage": (
        "authentik_stages_authenticator_webauthn.authenticatorwebauthnstage"
    ),
}


def current_model(model: str) -> str:
    return RENAMED_MODELS.get(model, model)


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
# What Gatehouse does instead, for attributes it has no equivalent for (by attribute name):
# the note names the attribute once with this, rather than a bare "no equivalent".
INSTEAD = {
    "layout": "Gatehouse's flow pages have one layout",
    "background": "the flow pages' look comes from Gatehouse's stylesheet",
    "compatibility_mode": "Gatehouse's pages are plain HTML forms in every browser",
    "user_type": (
        "Gatehouse's users are all of one kind; administrators are the users marked superuser"
    ),
    "user_path_template": "Gatehouse has no user paths; group users with groups",
    "path": "Gatehouse has no object paths; group users with groups",
    "template": "each Gatehouse stage has its own template",
    "case_insensitive_matching": "Gatehouse matches usernames and addresses without case",
    "show_matched_user": "Gatehouse never shows which account a name matched",
    "pretend_user_exists": "Gatehouse answers the same for unknown and known users",
    "execution_logging": "Gatehouse logs one line per policy outcome",
    "symbol_charset": "Gatehouse counts any punctuation, symbol or space as a symbol",
    "enable_remember_me": "the session lasts as the user login stage says",
    "sources": "Gatehouse has no federated sources",
    "show_source_labels": "Gatehouse has no federated sources",
}

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
    if model == SCOPE_MAPPING:
        return "scope_mapping"
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
    if entry.model in (GROUP, USER):
        return "users and groups are not created from blueprints (idp users/groups create)"
    if entry.model == INVITATION:
        return "invitations are not created from blueprints (idp invitations create --flow SLUG)"
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


# -- the reader's entries and plans --------------------------------------------------------------


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
    # The flow as the database has it, when the blueprint declares the flow and so replaces
    # its bindings with its own.
    replaced: dict | None = None


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
