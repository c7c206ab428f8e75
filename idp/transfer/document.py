"""The version-1 flow file, read into plain dataclasses with every problem named by place."""

import json
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from yaml.constructor import ConstructorError

from idp.applications.addresses import WEB_ADDRESS_RULE, is_web_address
from idp.core.extensions import db
from idp.core.i18n import N_, Sentence, placed
from idp.core.options import OptionsError, options_to_mapping, secret_options
from idp.core.slugs import RESERVED_SLUGS, SLUG_PATTERN
from idp.identity.usernames import is_one_line
from idp.models import Policy, Stage
from idp.models.flows import (
    AUTHENTICATION_REQUIREMENTS,
    DENIED_ACTIONS,
    DESIGNATIONS,
    ENGINE_MODES,
    FLOW_DEFAULTS,
    FLOW_FIELDS,
    INVALID_RESPONSE_ACTIONS,
    STAGE_BINDING_DEFAULTS,
    STAGE_BINDING_FIELDS,
)
from idp.policies.registry import POLICY_TYPES
from idp.stages.registry import STAGE_TYPES

MAX_FILE_BYTES = 2 * 1024 * 1024


class FlowFileError(ValueError):
    """Every problem of a file, named by its place. Each is English (the CLI prints it, the API
    returns it); the admin shows each one `translated`: they are Sentences, their English
    templates marked N_ and their values kept apart."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class PolicyBindingSpec:
    policy: str | None
    group: str | None
    user: str | None
    order: int = 0
    negate: bool = False
    enabled: bool = True
    failure_result: bool | None = None
    timeout: int = 30


@dataclass(frozen=True)
class StageBindingSpec:
    stage: str
    order: int
    evaluate_on_plan: bool = STAGE_BINDING_DEFAULTS["evaluate_on_plan"]
    re_evaluate_policies: bool = STAGE_BINDING_DEFAULTS["re_evaluate_policies"]
    policy_engine_mode: str = STAGE_BINDING_DEFAULTS["policy_engine_mode"]
    invalid_response_action: str = STAGE_BINDING_DEFAULTS["invalid_response_action"]
    policies: tuple[PolicyBindingSpec, ...] = ()


@dataclass(frozen=True)
class FlowSpec:
    slug: str
    name: str
    title: str
    designation: str
    authentication: str = FLOW_DEFAULTS["authentication"]
    denied_action: str = FLOW_DEFAULTS["denied_action"]
    policy_engine_mode: str = FLOW_DEFAULTS["policy_engine_mode"]
    policies: tuple[PolicyBindingSpec, ...] = ()
    stages: tuple[StageBindingSpec, ...] = ()


@dataclass(frozen=True)
class ComponentSpec:
    """A stage or a policy: a name, a registry type and its normalised options."""

    name: str
    type: str
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ProviderSpec:
    """An application's provider: a registry type, its normalised options and its flows by
    slug. A client secret is never in a file; client_id is, when the type has one."""

    type: str
    options: dict = field(default_factory=dict)
    client_id: str | None = None
    authorization_flow: str | None = None
    authentication_flow: str | None = None
    invalidation_flow: str | None = None


@dataclass(frozen=True)
class ApplicationSpec:
    slug: str
    name: str
    provider: ProviderSpec
    launch_url: str = ""
    description: str = ""
    policy_engine_mode: str = "any"
    policies: tuple[PolicyBindingSpec, ...] = ()


@dataclass(frozen=True)
class ScopeMappingSpec:
    """An admin-defined OpenID Connect scope: its name, the consent page's words, and the
    expression that gives its claims."""

    name: str
    expression: str
    description: str = ""


@dataclass(frozen=True)
class FlowDocument:
    flow: FlowSpec | None
    stages: tuple[ComponentSpec, ...]
    policies: tuple[ComponentSpec, ...]
    applications: tuple[ApplicationSpec, ...] = ()
    scope_mappings: tuple[ScopeMappingSpec, ...] = ()
    # Where its file defines an object, by (kind, name), when that is not the place the
    # version-1 form gives it (a blueprint's entry and line): for problems naming two files.
    places: dict = field(default_factory=dict, compare=False)


def load_file(path: str) -> dict:
    """Read YAML or JSON from a file; a FlowFileError names what is wrong with it."""
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as error:
        raise FlowFileError(
            [placed(str(path), Sentence(N_("cannot be read (%(reason)s)"), reason=error.strerror))]
        ) from None
    return parse_text(raw, path)


class TextLoader(yaml.SafeLoader):
    """Safe YAML that refuses a lone surrogate ("\\udc80" in a quoted string): half of a
    UTF-16 pair is no character, and text holding one can be neither stored nor sent."""

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        if isinstance(value, str) and has_lone_surrogate(value):
            raise ConstructorError(None, None, NO_CHARACTER, node.start_mark)
        return value

    def construct_mapping(self, node, deep=False):
        # PyYAML keeps the last of two equal keys and drops the first without a word; YAML
        # itself says the keys of a mapping are unique. (`<<` merges may be overridden.)
        seen = set()
        for key_node, _value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                continue
            key = self.construct_object(key_node)
            if not isinstance(key, Hashable):  # a blueprint's tag (!Env X): refused below
                continue
            if key in seen:
                problem = Sentence(KEY_TWICE, key=repr(key))
                raise ConstructorError(None, None, problem, key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


NO_CHARACTER = N_("a \\u escape that is no character (half of a UTF-16 pair)")
KEY_TWICE = N_("the key %(key)s is given twice in one mapping")


def has_lone_surrogate(text: str) -> bool:
    return not text.isascii() and any("\ud800" <= character <= "\udfff" for character in text)


def _load_yaml(text: str):
    loader = TextLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class KeyGivenTwice(ValueError):
    """A JSON object names one key twice; json.loads would keep the last without a word."""


def _unique_keys(pairs: list) -> dict:
    document = dict(pairs)
    if len(document) < len(pairs):
        seen = set()
        twice = next(key for key, _value in pairs if key in seen or seen.add(key))
        raise KeyGivenTwice(Sentence(KEY_TWICE, key=repr(twice)))
    return document


def _load_json(text: str):
    document = json.loads(text, object_pairs_hook=_unique_keys)
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise json.JSONDecodeError(NO_CHARACTER, text, 0) from None
    return document


def parse_text(raw: bytes, source: str) -> dict:
    if len(raw) > MAX_FILE_BYTES:
        raise FlowFileError(
            [placed(source, Sentence(N_("larger than %(size)s KiB"), size=MAX_FILE_BYTES // 1024))]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise FlowFileError([placed(source, N_("not UTF-8 text"))]) from None
    try:
        document = _load_json(text) if source.endswith(".json") else _load_yaml(text)
    except json.JSONDecodeError as error:
        problem = Sentence(
            N_("not valid JSON (line %(line)s: %(problem)s)"), line=error.lineno, problem=error.msg
        )
        raise FlowFileError([placed(source, problem)]) from None
    except KeyGivenTwice as error:
        problem = Sentence(N_("not valid JSON: %(problem)s"), problem=error.args[0])
        raise FlowFileError([placed(source, problem)]) from None
    except RecursionError:
        raise FlowFileError([placed(source, N_("nested too deeply to read"))]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = (
            getattr(error, "problem", None)
            or getattr(error, "reason", None)
            or N_("cannot be parsed")
        )
        if mark:
            problem = Sentence(
                N_("not valid YAML (line %(line)s): %(problem)s"),
                line=mark.line + 1,
                problem=problem,
            )
        else:
            problem = Sentence(N_("not valid YAML: %(problem)s"), problem=problem)
        raise FlowFileError([placed(source, problem)]) from None
    if not isinstance(document, dict):
        raise FlowFileError(
            [placed(source, N_("the document must be a mapping with version and flow"))]
        )
    return document


# Each kind's own sentence, so that a translation can agree with it.
KIND_MISSING = {
    "stage": N_("no stage type %(type)s (known: %(known)s)"),
    "policy": N_("no policy type %(type)s (known: %(known)s)"),
    "provider": N_("no provider type %(type)s (known: %(known)s)"),
}


def in_source(source: str, problem: str) -> str:
    """A problem with the file it is in ("flows/a.yaml: flow.slug: is required")."""
    return placed(source, problem) if source else problem


def _twice(name) -> str:
    return Sentence(N_("%(name)s is defined twice"), name=repr(name))


class _Reader:
    """Collects every problem instead of stopping at the first."""

    def __init__(self):
        self.problems: list[str] = []

    def problem(self, place: str, message: str) -> None:
        self.problems.append(placed(place, message))

    def mapping(self, value, place, allowed: set[str]) -> dict:
        if not isinstance(value, dict):
            self.problem(place, N_("must be a mapping"))
            return {}
        for key in value:
            if key not in allowed:
                self.problem(
                    place,
                    Sentence(
                        N_("unknown key %(key)s (allowed: %(allowed)s)"),
                        key=repr(key),
                        allowed=", ".join(sorted(allowed)),
                    ),
                )
        return value

    def items(self, value, place) -> list:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(place, N_("must be a list"))
            return []
        return value

    def text(
        self,
        mapping,
        key,
        place,
        *,
        required=False,
        default="",
        pattern=None,
        max_length=200,
        one_line=False,
    ):
        value = mapping.get(key, default)
        if value is None or (required and key not in mapping):
            self.problem(f"{place}.{key}", N_("is required"))
            return default
        if not isinstance(value, str):
            self.problem(f"{place}.{key}", N_("must be text"))
            return default
        if required and not value.strip():
            self.problem(f"{place}.{key}", N_("must not be empty"))
        if len(value) > max_length:
            self.problem(
                f"{place}.{key}",
                Sentence(N_("is longer than %(length)s characters"), length=max_length),
            )
        if one_line and not is_one_line(value):
            self.problem(f"{place}.{key}", N_("must be one line, without control characters"))
        if pattern and value and not pattern.match(value):
            self.problem(
                f"{place}.{key}",
                Sentence(
                    N_("%(value)s is not allowed (lower-case letters, digits, - and _)"),
                    value=repr(value),
                ),
            )
        return value

    def choice(self, mapping, key, place, choices, default):
        value = mapping.get(key, default)
        if value not in choices:
            self.problem(
                f"{place}.{key}",
                Sentence(
                    N_("must be one of %(choices)s, not %(value)s"),
                    choices=", ".join(choices),
                    value=repr(value),
                ),
            )
            return default
        return value

    def boolean(self, mapping, key, place, default, *, nullable=False):
        value = mapping.get(key, default)
        if value is None and nullable:
            return None
        if not isinstance(value, bool):
            self.problem(f"{place}.{key}", N_("must be true or false"))
            return default
        return value

    def integer(self, mapping, key, place, default, minimum, maximum):
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{place}.{key}", N_("must be a whole number"))
            return default
        if not minimum <= value <= maximum:
            self.problem(
                f"{place}.{key}",
                Sentence(
                    N_("must be between %(lowest)s and %(highest)s"),
                    lowest=minimum,
                    highest=maximum,
                ),
            )
            return default
        return value


POLICY_BINDING_KEYS = {
    "policy",
    "group",
    "user",
    "order",
    "negate",
    "enabled",
    "failure_result",
    "timeout",
}
STAGE_BINDING_KEYS = {"stage", *STAGE_BINDING_FIELDS, "policies"}
FLOW_KEYS = {*FLOW_FIELDS, "policies", "stages"}
APPLICATION_KEYS = {
    "slug",
    "name",
    "launch_url",
    "description",
    "policy_engine_mode",
    "provider",
    "policies",
}
TOP_KEYS = {"version", "flow", "stages", "policies", "applications", "scope_mappings"}
SCOPE_MAPPING_KEYS = {"name", "description", "expression"}
PROVIDER_KEYS = {
    "type",
    "options",
    "client_id",
    "authorization_flow",
    "authentication_flow",
    "invalidation_flow",
}


def _policy_binding(reader: _Reader, raw, place) -> PolicyBindingSpec:
    raw = reader.mapping(raw, place, POLICY_BINDING_KEYS)
    subjects = [key for key in ("policy", "group", "user") if raw.get(key) is not None]
    if len(subjects) != 1:
        reader.problem(place, N_("must name exactly one of policy, group or user"))
    names = {key: reader.text(raw, key, place, default=None) for key in subjects}
    return PolicyBindingSpec(
        policy=names.get("policy"),
        group=names.get("group"),
        user=names.get("user"),
        order=reader.integer(raw, "order", place, 0, -100000, 100000),
        negate=reader.boolean(raw, "negate", place, False),
        enabled=reader.boolean(raw, "enabled", place, True),
        failure_result=reader.boolean(raw, "failure_result", place, None, nullable=True),
        timeout=reader.integer(raw, "timeout", place, 30, 1, 300),
    )


def _policy_bindings(reader, raw, place) -> tuple[PolicyBindingSpec, ...]:
    return tuple(
        _policy_binding(reader, item, f"{place}[{index}]")
        for index, item in enumerate(reader.items(raw, place))
    )


def _stage_binding(reader: _Reader, raw, place, index) -> StageBindingSpec:
    raw = reader.mapping(raw, place, STAGE_BINDING_KEYS)
    return StageBindingSpec(
        stage=reader.text(raw, "stage", place, required=True),
        order=reader.integer(raw, "order", place, (index + 1) * 10, -100000, 100000),
        evaluate_on_plan=reader.boolean(
            raw, "evaluate_on_plan", place, STAGE_BINDING_DEFAULTS["evaluate_on_plan"]
        ),
        re_evaluate_policies=reader.boolean(
            raw, "re_evaluate_policies", place, STAGE_BINDING_DEFAULTS["re_evaluate_policies"]
        ),
        policy_engine_mode=reader.choice(
            raw,
            "policy_engine_mode",
            place,
            ENGINE_MODES,
            STAGE_BINDING_DEFAULTS["policy_engine_mode"],
        ),
        invalid_response_action=reader.choice(
            raw,
            "invalid_response_action",
            place,
            INVALID_RESPONSE_ACTIONS,
            STAGE_BINDING_DEFAULTS["invalid_response_action"],
        ),
        policies=_policy_bindings(reader, raw.get("policies"), f"{place}.policies"),
    )


def _component(reader: _Reader, raw, place, registry, kind) -> ComponentSpec | None:
    raw = reader.mapping(raw, place, {"name", "type", "options"})
    name = reader.text(raw, "name", place, required=True)
    type_name = reader.text(raw, "type", place, required=True, max_length=64)
    component_type = registry.get(type_name)
    if component_type is None:
        if type_name:
            reader.problem(
                f"{place}.type",
                Sentence(
                    KIND_MISSING[kind], type=repr(type_name), known=", ".join(sorted(registry))
                ),
            )
        return None
    try:
        options = component_type.parse_options(
            _with_saved_secrets(raw.get("options"), component_type, name, kind)
        )
    except OptionsError as error:
        reader.problem(f"{place}.options" + (f".{error.place}" if error.place else ""), error.words)
        return None
    return ComponentSpec(name=name, type=type_name, options=options_to_mapping(options))


def _with_saved_secrets(options, component_type, name: str, kind: str):
    """Exported files leave credentials out; a file without one keeps the one saved."""
    missing = [
        option
        for option in secret_options(component_type.Options)
        if isinstance(options, dict | None) and not (options or {}).get(option)
    ]
    if not missing:
        return options
    model = Stage if kind == "stage" else Policy
    saved = db.session.scalar(select(model.options).where(model.name == name)) or {}
    kept = {option: saved[option] for option in missing if saved.get(option)}
    return {**(options or {}), **kept} if kept else options


def read_document(document: dict, source: str = "") -> FlowDocument:
    """Validate a whole version-1 document; raises FlowFileError listing every problem."""
    reader = _Reader()
    if "entries" in document and "flow" not in document:
        problem = N_(
            "this is an authentik blueprint; Gatehouse reads only its own version-1 format"
        )
        raise FlowFileError([in_source(source, problem)])
    reader.mapping(document, "document", TOP_KEYS)
    if document.get("version") != 1:
        reader.problem(
            "version", Sentence(N_("must be 1, not %(value)s"), value=repr(document.get("version")))
        )
    applications = _applications(reader, document.get("applications"))
    scope_mappings = _scope_mappings(reader, document.get("scope_mappings"))
    # A file of applications (`idp apps export`) or of scope mappings needs no flow.
    flow = None
    if "flow" in document or not (applications or scope_mappings):
        flow = _flow(reader, document.get("flow"))
    stages = _components(reader, document.get("stages"), "stages", STAGE_TYPES, "stage")
    policies = _components(reader, document.get("policies"), "policies", POLICY_TYPES, "policy")
    if reader.problems:
        raise FlowFileError([in_source(source, problem) for problem in reader.problems])
    return FlowDocument(
        flow=flow,
        stages=stages,
        policies=policies,
        applications=applications,
        scope_mappings=scope_mappings,
    )


def _flow(reader: _Reader, raw) -> FlowSpec:
    raw_flow = reader.mapping(raw, "flow", FLOW_KEYS)
    if raw_flow.get("slug") in RESERVED_SLUGS:
        reader.problem(
            "flow.slug",
            Sentence(
                N_("%(slug)s is reserved for Gatehouse's own addresses under /flow/"),
                slug=repr(raw_flow["slug"]),
            ),
        )
    return FlowSpec(
        slug=reader.text(
            raw_flow, "slug", "flow", required=True, pattern=SLUG_PATTERN, max_length=100
        ),
        name=reader.text(raw_flow, "name", "flow", required=True, one_line=True),
        title=reader.text(raw_flow, "title", "flow", one_line=True),
        designation=reader.choice(raw_flow, "designation", "flow", DESIGNATIONS, None),
        authentication=reader.choice(
            raw_flow,
            "authentication",
            "flow",
            AUTHENTICATION_REQUIREMENTS,
            FLOW_DEFAULTS["authentication"],
        ),
        denied_action=reader.choice(
            raw_flow, "denied_action", "flow", DENIED_ACTIONS, FLOW_DEFAULTS["denied_action"]
        ),
        policy_engine_mode=reader.choice(
            raw_flow,
            "policy_engine_mode",
            "flow",
            ENGINE_MODES,
            FLOW_DEFAULTS["policy_engine_mode"],
        ),
        policies=_policy_bindings(reader, raw_flow.get("policies"), "flow.policies"),
        stages=tuple(
            _stage_binding(reader, item, f"flow.stages[{index}]", index)
            for index, item in enumerate(reader.items(raw_flow.get("stages"), "flow.stages"))
        ),
    )


def _components(reader, raw, place, registry, kind) -> tuple[ComponentSpec, ...]:
    components = []
    seen = set()
    for index, item in enumerate(reader.items(raw, place)):
        component = _component(reader, item, f"{place}[{index}]", registry, kind)
        if component is None:
            continue
        if component.name in seen:
            reader.problem(f"{place}[{index}].name", _twice(component.name))
        seen.add(component.name)
        components.append(component)
    return tuple(components)


def _applications(reader: _Reader, raw) -> tuple[ApplicationSpec, ...]:
    applications = []
    seen, client_ids, addresses = set(), set(), set()
    for index, item in enumerate(reader.items(raw, "applications")):
        place = f"applications[{index}]"
        application = _application(reader, item, place)
        if application is None:
            continue
        if application.slug in seen:
            reader.problem(f"{place}.slug", _twice(application.slug))
        seen.add(application.slug)
        client_id = application.provider.client_id
        if client_id and client_id in client_ids:
            reader.problem(f"{place}.provider.client_id", _twice(client_id))
        client_ids.add(client_id)
        address = claimed_address(application.provider)
        if address and address in addresses:
            reader.problem(f"{place}.provider.options", _twice(address))
        addresses.add(address)
        applications.append(application)
    return tuple(applications)


def claimed_address(provider: ProviderSpec) -> str | None:
    """The address no other application may claim (ProviderType.claimed_address)."""
    from idp.providers.registry import PROVIDER_TYPES

    provider_type = PROVIDER_TYPES[provider.type]
    return provider_type.claimed_address(provider_type.parse_options(provider.options))


def _application(reader: _Reader, raw, place) -> ApplicationSpec | None:
    raw = reader.mapping(raw, place, APPLICATION_KEYS)
    provider = _provider(reader, raw.get("provider"), f"{place}.provider")
    spec = ApplicationSpec(
        slug=reader.text(raw, "slug", place, required=True, pattern=SLUG_PATTERN, max_length=100),
        name=reader.text(raw, "name", place, required=True),
        launch_url=reader.text(raw, "launch_url", place, max_length=2000),
        description=reader.text(raw, "description", place, max_length=5000),
        policy_engine_mode=reader.choice(raw, "policy_engine_mode", place, ENGINE_MODES, "any"),
        provider=provider,
        policies=_policy_bindings(reader, raw.get("policies"), f"{place}.policies"),
    )
    if spec.launch_url and not is_web_address(spec.launch_url):
        reader.problem(f"{place}.launch_url", WEB_ADDRESS_RULE)
    return spec if provider is not None else None


def _provider(reader: _Reader, raw, place) -> ProviderSpec | None:
    """Options go through the provider type's own parse, as in the admin: no per-type code."""
    from idp.providers.registry import PROVIDER_TYPES

    if raw is None:
        reader.problem(place, N_("is required"))
        return None
    raw = reader.mapping(raw, place, PROVIDER_KEYS)
    type_name = reader.text(raw, "type", place, required=True, max_length=64)
    optional = {
        key: reader.text(raw, key, place, pattern=SLUG_PATTERN, max_length=100) or None
        if raw.get(key) is not None
        else None
        for key in ("authorization_flow", "authentication_flow", "invalidation_flow")
    }
    if raw.get("client_id") is not None:
        optional["client_id"] = reader.text(raw, "client_id", place, required=True, max_length=100)
    provider_type = PROVIDER_TYPES.get(type_name)
    if provider_type is None:
        if type_name:
            reader.problem(
                f"{place}.type",
                Sentence(
                    KIND_MISSING["provider"],
                    type=repr(type_name),
                    known=", ".join(sorted(PROVIDER_TYPES)),
                ),
            )
        return None
    try:
        options = provider_type.parse_options(raw.get("options"))
    except OptionsError as error:
        reader.problem(f"{place}.options" + (f".{error.place}" if error.place else ""), error.words)
        return None
    return ProviderSpec(type=type_name, options=options_to_mapping(options), **optional)


def _scope_mappings(reader: _Reader, raw) -> tuple[ScopeMappingSpec, ...]:
    """Checked as the admin checks them: a scope's name, an expression that compiles."""
    from idp.policies.expression import compile_expression
    from idp.providers.oauth2.options import scope_name_problem

    mappings = []
    seen = set()
    for index, item in enumerate(reader.items(raw, "scope_mappings")):
        place = f"scope_mappings[{index}]"
        item = reader.mapping(item, place, SCOPE_MAPPING_KEYS)
        name = reader.text(item, "name", place, required=True, max_length=100)
        if name and (problem := scope_name_problem(name)):
            reader.problem(f"{place}.name", problem)
        if name in seen:
            reader.problem(f"{place}.name", _twice(name))
        seen.add(name)
        expression = reader.text(item, "expression", place, required=True, max_length=2000)
        if expression.strip():
            try:
                compile_expression(expression)
            except OptionsError as error:
                reader.problem(f"{place}.expression", error.words)
        description = reader.text(item, "description", place, max_length=500)
        mappings.append(ScopeMappingSpec(name, expression, description))
    return tuple(mappings)
