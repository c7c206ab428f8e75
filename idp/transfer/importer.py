"""Writing flow documents into the database: idempotent, all or nothing.

Stages and policies are matched by name and flows by slug, and updated in place. A flow's
bindings are replaced only when they differ, so importing the same file twice changes
nothing (and plans in progress stay valid).
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from idp.extensions import db
from idp.flows.loading import load_flow
from idp.models import Flow, Group, Policy, PolicyBinding, Stage, StageBinding, User
from idp.models.flows import FLOW_FIELDS
from idp.stages.registry import STAGE_TYPES
from idp.transfer.document import FlowDocument, FlowFileError, PolicyBindingSpec, StageBindingSpec


@dataclass(frozen=True)
class Change:
    action: str  # create | update | unchanged
    kind: str  # stage | policy | flow
    name: str

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


def check_references(document: FlowDocument, source: str = "") -> list[str]:
    """Every name the document uses must be defined in it or exist already."""
    prefix = f"{source}: " if source else ""
    stage_names = {stage.name for stage in document.stages}
    policy_names = {policy.name for policy in document.policies}
    bindings = [("flow.policies", document.flow.policies)] + [
        (f"flow.stages[{index}].policies", binding.policies)
        for index, binding in enumerate(document.flow.stages)
    ]
    wanted_stages = {binding.stage for binding in document.flow.stages} - stage_names
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
        f"{prefix}stages[{index}].options: no policy named {name!r}"
        for index, name in sorted(from_options)
        if name not in known_policies
    ]
    for index, binding in enumerate(document.flow.stages):
        if binding.stage not in known_stages:
            problems.append(f"{prefix}flow.stages[{index}].stage: no stage named {binding.stage!r}")
    for place, group in bindings:
        for index, binding in enumerate(group):
            where = f"{prefix}{place}[{index}]"
            if binding.policy and binding.policy not in known_policies:
                problems.append(f"{where}: no policy named {binding.policy!r}")
            if binding.group and binding.group not in known_groups:
                problems.append(f"{where}: no group named {binding.group!r}")
            if binding.user and binding.user.lower() not in known_users:
                problems.append(f"{where}: no user named {binding.user!r}")
    return problems


def import_documents(documents: list[tuple[FlowDocument, str]]) -> list[Change]:
    """Check every document, then write them all; the caller commits or rolls back."""
    problems = [
        problem for document, source in documents for problem in check_references(document, source)
    ]
    if problems:
        raise FlowFileError(problems)
    changes = []
    for document, _source in documents:
        changes.extend(_apply(document))
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
    row.type, row.options = spec.type, spec.options
    return row, Change("update", kind, spec.name)


def _apply(document: FlowDocument) -> list[Change]:
    changes = []
    for spec in document.stages:
        changes.append(_upsert_component(Stage, spec, "stage")[1])
    for spec in document.policies:
        changes.append(_upsert_component(Policy, spec, "policy")[1])
    db.session.flush()
    changes.append(_apply_flow(document.flow))
    return changes


# What an import may change on a flow it finds by its slug.
UPDATED_FLOW_FIELDS = tuple(name for name in FLOW_FIELDS if name != "slug")


def _apply_flow(spec) -> Change:
    flow = load_flow(spec.slug)
    action = "unchanged"
    if flow is None:
        flow = Flow(slug=spec.slug, bindings=[], policy_bindings=[])
        db.session.add(flow)
        action = "create"
    for name in UPDATED_FLOW_FIELDS:
        if getattr(flow, name) != getattr(spec, name):
            setattr(flow, name, getattr(spec, name))
            action = action if action == "create" else "update"
    if _bindings_of(flow) != (spec.policies, spec.stages):
        flow.bindings.clear()
        flow.policy_bindings.clear()
        db.session.flush()
        flow.policy_bindings.extend(_new_policy_binding(item) for item in spec.policies)
        flow.bindings.extend(_new_stage_binding(item) for item in spec.stages)
        action = action if action == "create" else "update"
    return Change(action, "flow", spec.slug)


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
