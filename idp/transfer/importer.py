"""Writing flow documents into the database: idempotent, all or nothing.

Stages and policies are matched by name and flows by slug, and updated in place. A flow's
bindings are replaced only when they differ, so importing the same file twice changes
nothing (and plans in progress stay valid).
"""

from dataclasses import dataclass, field

from sqlalchemy import func, select

from idp.applications.loading import load_application
from idp.applications.manage import ApplicationError, address_taken, authorization_flow
from idp.core.extensions import db
from idp.core.i18n import N_, Sentence, placed
from idp.flows.loading import load_flow
from idp.models import (
    Application,
    Flow,
    Group,
    Policy,
    PolicyBinding,
    Provider,
    ScopeMapping,
    Stage,
    StageBinding,
    User,
)
from idp.models.flows import FLOW_FIELDS
from idp.providers.registry import PROVIDER_TYPES
from idp.stages.registry import STAGE_TYPES
from idp.transfer.differences import component_changes, field_changes, flow_binding_changes
from idp.transfer.document import (
    ApplicationSpec,
    FlowDocument,
    FlowFileError,
    PolicyBindingSpec,
    ProviderSpec,
    ScopeMappingSpec,
    StageBindingSpec,
    in_source,
)
from idp.transfer.duplicates import check_duplicates


@dataclass(frozen=True)
class Change:
    action: str  # create | update | unchanged
    kind: str  # stage | policy | flow | scope_mapping | application
    name: str
    # What is shown once and never again (a new client's secret), by name.
    secrets: dict = field(default_factory=dict, compare=False)
    # An update's differences, one line per field (idp.transfer.differences).
    details: tuple[str, ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return f"{self.action:<9} {self.kind:<6} {self.name}"


def _existing_names(model, column, names) -> set[str]:
    if not names:
        return set()
    return set(db.session.scalars(select(column).where(column.in_(names))))


def _existing_usernames(names) -> set[str]:
    lowered = {name.lower() for name in names}
    if not lowered:
        return set()
    found = db.session.scalars(
        select(func.lower(User.username)).where(func.lower(User.username).in_(lowered))
    )
    return set(found)


def check_references(
    document: FlowDocument, source: str = "", pending_flows: dict | None = None
) -> list[str]:
    """Every name the document uses must be defined in it or exist already. `pending_flows`
    (slug -> designation) are the flows of the other documents imported with it."""
    stage_names = {stage.name for stage in document.stages}
    policy_names = {policy.name for policy in document.policies}
    flow_stages = document.flow.stages if document.flow else ()
    bindings = [("flow.policies", document.flow.policies if document.flow else ())] + [
        (f"flow.stages[{index}].policies", binding.policies)
        for index, binding in enumerate(flow_stages)
    ]
    bindings += [
        (f"applications[{index}].policies", application.policies)
        for index, application in enumerate(document.applications)
    ]
    wanted_stages = {binding.stage for binding in flow_stages} - stage_names
    from_options = {
        (index, name)
        for index, stage in enumerate(document.stages)
        for name in STAGE_TYPES[stage.type].referenced_policies(
            STAGE_TYPES[stage.type].parse_options(stage.options)
        )
    }
    wanted_policies = {b.policy for _, group in bindings for b in group if b.policy}
    wanted_policies = (wanted_policies | {name for _, name in from_options}) - policy_names
    wanted_groups = {b.group for _, group in bindings for b in group if b.group}
    wanted_users = {b.user for _, group in bindings for b in group if b.user}
    known_stages = stage_names | _existing_names(Stage, Stage.name, wanted_stages)
    known_policies = policy_names | _existing_names(Policy, Policy.name, wanted_policies)
    known_groups = _existing_names(Group, Group.name, wanted_groups)
    known_users = _existing_usernames(wanted_users)

    problems = [
        placed(f"stages[{index}].options", _missing(NO_POLICY, name))
        for index, name in sorted(from_options)
        if name not in known_policies
    ]
    for index, binding in enumerate(flow_stages):
        if binding.stage not in known_stages:
            problems.append(
                placed(f"flow.stages[{index}].stage", _missing(NO_STAGE, binding.stage))
            )
    for place, group in bindings:
        for index, binding in enumerate(group):
            where = f"{place}[{index}]"
            if binding.policy and binding.policy not in known_policies:
                problems.append(placed(where, _missing(NO_POLICY, binding.policy)))
            if binding.group and binding.group not in known_groups:
                problems.append(placed(where, _missing(NO_GROUP, binding.group)))
            if binding.user and binding.user.lower() not in known_users:
                problems.append(placed(where, _missing(NO_USER, binding.user)))
    problems.extend(check_application_references(document, pending_flows))
    problems.extend(_check_scope_mapping_references(document))
    return [in_source(source, problem) for problem in problems]


# What a file names and nothing defines; English for the CLI, translated where the admin shows
# them (FlowFileError).
NO_POLICY = N_("no policy named %(name)s")
NO_STAGE = N_("no stage named %(name)s")
NO_GROUP = N_("no group named %(name)s")
NO_USER = N_("no user named %(name)s")
NO_FLOW = N_("no flow named %(name)s")
NO_SCOPE_MAPPING = N_("no scope mapping named %(name)s")


def _missing(template: str, name: str) -> str:
    return Sentence(template, name=repr(name))


def _check_scope_mapping_references(document: FlowDocument) -> list[str]:
    """The scope mappings a provider offers come with the file or exist already."""
    named = {
        (index, name)
        for index, application in enumerate(document.applications)
        for name in _offered_scope_mappings(application.provider)
    }
    defined = {mapping.name for mapping in document.scope_mappings}
    wanted = {name for _, name in named} - defined
    known = defined | _existing_names(ScopeMapping, ScopeMapping.name, wanted)
    return [
        placed(
            f"applications[{index}].provider.options.scope_mappings",
            _missing(NO_SCOPE_MAPPING, name),
        )
        for index, name in sorted(named)
        if name not in known
    ]


def _offered_scope_mappings(provider) -> tuple[str, ...]:
    provider_type = PROVIDER_TYPES[provider.type]
    return provider_type.referenced_scope_mappings(provider_type.parse_options(provider.options))


def import_documents(
    documents: list[tuple[FlowDocument, str]], earlier=(), applied_by=None
) -> list[Change]:
    """Check every document, then write them all; the caller commits or rolls back. An object
    two files define differently (a flow, whatever they say) is refused, naming both, also
    against what an earlier step of the same import wrote (`earlier`, see check_duplicates)."""
    pending_flows = {
        document.flow.slug: document.flow.designation
        for document, _source in documents
        if document.flow is not None
    }
    problems = check_duplicates(documents, earlier, applied_by) + [
        problem
        for document, source in documents
        for problem in check_references(document, source, pending_flows)
    ]
    if problems:
        raise FlowFileError(problems)
    changes = []
    for document, _source in documents:
        changes.extend(_apply(document))
    for document, _source in documents:
        changes.extend(apply_scope_mapping(spec) for spec in document.scope_mappings)
    # After every flow, so that a provider finds the flows of any file imported with it.
    for document, _source in documents:
        changes.extend(apply_application(spec) for spec in document.applications)
    db.session.flush()
    return changes


def _upsert_component(model, spec, kind) -> tuple[object, Change]:
    row = db.session.scalar(select(model).where(model.name == spec.name))
    if row is None:
        row = model(name=spec.name, type=spec.type, options=spec.options)
        db.session.add(row)
        return row, Change("create", kind, spec.name)
    if row.type == spec.type and row.options == spec.options:
        return row, Change("unchanged", kind, spec.name)
    details = component_changes(row.type, row.options, spec.type, spec.options)
    row.type, row.options = spec.type, spec.options
    return row, Change("update", kind, spec.name, details=tuple(details))


def _apply(document: FlowDocument) -> list[Change]:
    changes = []
    for spec in document.stages:
        changes.append(_upsert_component(Stage, spec, "stage")[1])
    for spec in document.policies:
        changes.append(_upsert_component(Policy, spec, "policy")[1])
    db.session.flush()
    if document.flow is not None:
        changes.append(_apply_flow(document.flow))
        db.session.flush()
    return changes


# What an import may change on a flow it finds by its slug.
UPDATED_FLOW_FIELDS = tuple(name for name in FLOW_FIELDS if name != "slug")


def _apply_flow(spec) -> Change:
    flow = load_flow(spec.slug)
    action, details = "unchanged", []
    if flow is None:
        flow = Flow(slug=spec.slug, bindings=[], policy_bindings=[])
        db.session.add(flow)
        action = "create"
    for name in UPDATED_FLOW_FIELDS:
        if getattr(flow, name) != getattr(spec, name):
            details += field_changes({name: getattr(flow, name)}, {name: getattr(spec, name)})
            setattr(flow, name, getattr(spec, name))
            action = action if action == "create" else "update"
    bindings = _bindings_of(flow)
    if bindings != (spec.policies, spec.stages):
        details += flow_binding_changes(bindings, (spec.policies, spec.stages))
        flow.bindings.clear()
        flow.policy_bindings.clear()
        db.session.flush()
        flow.policy_bindings.extend(_new_policy_binding(item) for item in spec.policies)
        flow.bindings.extend(_new_stage_binding(item) for item in spec.stages)
        action = action if action == "create" else "update"
    return Change(action, "flow", spec.slug, details=tuple(details) if action == "update" else ())


def policy_binding_spec(binding: PolicyBinding) -> PolicyBindingSpec:
    return PolicyBindingSpec(
        policy=binding.policy.name if binding.policy else None,
        group=binding.group.name if binding.group else None,
        user=binding.user.username if binding.user else None,
        order=binding.order,
        negate=binding.negate,
        enabled=binding.enabled,
        failure_result=binding.failure_result,
        timeout=binding.timeout,
    )


def stage_binding_spec(binding: StageBinding) -> StageBindingSpec:
    return StageBindingSpec(
        stage=binding.stage.name,
        order=binding.order,
        evaluate_on_plan=binding.evaluate_on_plan,
        re_evaluate_policies=binding.re_evaluate_policies,
        policy_engine_mode=binding.policy_engine_mode,
        invalid_response_action=binding.invalid_response_action,
        policies=tuple(policy_binding_spec(item) for item in binding.policy_bindings),
    )


def _bindings_of(flow: Flow):
    if flow.id is None:
        return None
    return (
        tuple(policy_binding_spec(item) for item in flow.policy_bindings),
        tuple(stage_binding_spec(item) for item in flow.bindings),
    )


def _new_policy_binding(spec: PolicyBindingSpec) -> PolicyBinding:
    return PolicyBinding(
        policy=db.session.scalar(select(Policy).where(Policy.name == spec.policy))
        if spec.policy
        else None,
        group=db.session.scalar(select(Group).where(Group.name == spec.group))
        if spec.group
        else None,
        user=(
            db.session.scalar(select(User).where(func.lower(User.username) == spec.user.lower()))
            if spec.user
            else None
        ),
        order=spec.order,
        negate=spec.negate,
        enabled=spec.enabled,
        failure_result=spec.failure_result,
        timeout=spec.timeout,
    )


def _new_stage_binding(spec: StageBindingSpec) -> StageBinding:
    return StageBinding(
        stage=db.session.scalar(select(Stage).where(Stage.name == spec.stage)),
        order=spec.order,
        evaluate_on_plan=spec.evaluate_on_plan,
        re_evaluate_policies=spec.re_evaluate_policies,
        policy_engine_mode=spec.policy_engine_mode,
        invalid_response_action=spec.invalid_response_action,
        policy_bindings=[_new_policy_binding(item) for item in spec.policies],
    )


# -- scope mappings -------------------------------------------------------------------------------


def apply_scope_mapping(spec: ScopeMappingSpec) -> Change:
    row = db.session.scalar(select(ScopeMapping).where(ScopeMapping.name == spec.name))
    values = {"expression": spec.expression, "description": spec.description}
    if row is None:
        db.session.add(ScopeMapping(name=spec.name, **values))
        return Change("create", "scope_mapping", spec.name)
    if all(getattr(row, key) == value for key, value in values.items()):
        return Change("unchanged", "scope_mapping", spec.name)
    for key, value in values.items():
        setattr(row, key, value)
    return Change("update", "scope_mapping", spec.name)


# -- applications ---------------------------------------------------------------------------------

PROVIDER_FLOWS = ("authorization_flow", "authentication_flow", "invalidation_flow")
UPDATED_APPLICATION_FIELDS = ("name", "launch_url", "description", "policy_engine_mode")


def check_application_references(document: FlowDocument, pending_flows=None) -> list[str]:
    """The flows a provider names exist (or come with the import), the authorization one with
    designation authorization; a client_id is not another application's."""
    problems = []
    pending = dict(pending_flows or {})
    if document.flow is not None:
        pending[document.flow.slug] = document.flow.designation
    for index, application in enumerate(document.applications):
        place = f"applications[{index}].provider"
        provider = application.provider
        for key in PROVIDER_FLOWS:
            slug = getattr(provider, key)
            if key == "authorization_flow":
                if slug in pending:
                    if pending[slug] != "authorization":
                        problem = Sentence(
                            N_("%(slug)s is not an authorization flow"), slug=repr(slug)
                        )
                        problems.append(placed(f"{place}.{key}", problem))
                    continue
                try:
                    authorization_flow(slug)
                except ApplicationError as error:
                    problems.append(f"{place}.{key}: {error}")
            elif (
                slug
                and slug not in pending
                and db.session.scalar(select(Flow.id).where(Flow.slug == slug)) is None
            ):
                problems.append(placed(f"{place}.{key}", _missing(NO_FLOW, slug)))
        taken = _address_taken(provider, application.slug)
        if taken is not None:
            problems.append(placed(f"{place}.options", taken))
        if provider.client_id:
            holder = db.session.scalar(
                select(Application.slug)
                .join(Application.provider)
                .where(Provider.client_id == provider.client_id)
            )
            if holder is not None and holder != application.slug:
                problem = Sentence(
                    N_("%(client_id)s belongs to application %(holder)s"),
                    client_id=repr(provider.client_id),
                    holder=repr(holder),
                )
                problems.append(placed(f"{place}.client_id", problem))
    return problems


def _address_taken(provider: ProviderSpec, slug: str):
    provider_type = PROVIDER_TYPES[provider.type]
    return address_taken(provider_type, provider_type.parse_options(provider.options), slug)


def _flow_id(slug: str | None) -> int | None:
    return db.session.scalar(select(Flow.id).where(Flow.slug == slug)) if slug else None


def apply_application(spec: ApplicationSpec) -> Change:
    """Create or update an application by slug. A new provider (or one of another type) is
    provisioned by its type, and a new secret comes back once in the Change; an existing one
    keeps its client secret."""
    application = load_application(spec.slug)
    action = "unchanged"
    if application is None:
        application = Application(slug=spec.slug, policy_bindings=[])
        db.session.add(application)
        action = "create"
    for name in UPDATED_APPLICATION_FIELDS:
        if getattr(application, name) != getattr(spec, name):
            setattr(application, name, getattr(spec, name))
            action = action if action == "create" else "update"
    wanted = spec.provider
    provider_type = PROVIDER_TYPES[wanted.type]
    flow_ids = {
        "authorization_flow_id": _flow_id(wanted.authorization_flow) or authorization_flow(None).id,
        "authentication_flow_id": _flow_id(wanted.authentication_flow),
        "invalidation_flow_id": _flow_id(wanted.invalidation_flow),
    }
    provider = application.provider if action != "create" else None
    secrets = {}
    if provider is None or provider.type != wanted.type:
        if provider is None:
            provider = Provider()
            application.provider = provider
        provider.type, provider.options = wanted.type, wanted.options
        provider.client_id = provider.client_secret_hash = None
        for name, value in flow_ids.items():
            setattr(provider, name, value)
        db.session.flush()
        secrets = provider_type.provision(provider, provider_type.parse_options(wanted.options))
        if wanted.client_id:
            provider.client_id = wanted.client_id
        action = action if action == "create" else "update"
    else:
        changed = provider.options != wanted.options or any(
            getattr(provider, name) != value for name, value in flow_ids.items()
        )
        if wanted.client_id and provider.client_id != wanted.client_id:
            provider.client_id = wanted.client_id
            changed = True
        if changed:
            provider.options = wanted.options
            for name, value in flow_ids.items():
                setattr(provider, name, value)
            action = action if action == "create" else "update"
    existing = (
        tuple(policy_binding_spec(item) for item in application.policy_bindings)
        if application.id is not None
        else ()
    )
    if existing != spec.policies:
        application.policy_bindings.clear()
        db.session.flush()
        application.policy_bindings.extend(_new_policy_binding(item) for item in spec.policies)
        action = action if action == "create" else "update"
    provider_type.ready_to_serve(provider_type.parse_options(provider.options))
    db.session.flush()
    return Change(action, "application", spec.slug, secrets)
