"""Loading a flow with everything the engine needs, in a fixed number of queries."""

import hashlib
import json
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from idp.extensions import db
from idp.models import Flow, PolicyBinding, StageBinding


def _policy_binding_subjects():
    return (
        joinedload(PolicyBinding.policy),
        joinedload(PolicyBinding.group),
        joinedload(PolicyBinding.user),
    )


def load_flow(slug: str) -> Flow | None:
    """Three queries whatever the size of the flow: the flow, its stage bindings with their
    stages, and every policy binding of the flow and of its stage bindings with its subject.

    The collections are filled by hand: selectinload's machinery cost more than the queries
    themselves (half of a sign-in's time outside bcrypt, see bench/signin.py)."""
    flow = db.session.scalar(select(Flow).where(Flow.slug == slug))
    if flow is None:
        return None
    bindings = db.session.scalars(
        select(StageBinding)
        .where(StageBinding.flow_id == flow.id)
        .options(joinedload(StageBinding.stage))
        .order_by(StageBinding.order, StageBinding.id)
    ).all()
    policy_bindings = db.session.scalars(
        select(PolicyBinding)
        .where(
            or_(
                PolicyBinding.flow_id == flow.id,
                PolicyBinding.stage_binding_id.in_([binding.id for binding in bindings]),
            )
        )
        .options(*_policy_binding_subjects())
        .order_by(PolicyBinding.order, PolicyBinding.id)
    ).all()
    by_binding = defaultdict(list)
    for policy_binding in policy_bindings:
        by_binding[policy_binding.stage_binding_id].append(policy_binding)
    set_committed_value(flow, "bindings", bindings)
    set_committed_value(flow, "policy_bindings", by_binding[None])
    for policy_binding in by_binding[None]:
        set_committed_value(policy_binding, "flow", flow)
    for binding in bindings:
        set_committed_value(binding, "flow", flow)
        set_committed_value(binding, "policy_bindings", by_binding[binding.id])
        for policy_binding in by_binding[binding.id]:
            set_committed_value(policy_binding, "stage_binding", binding)
    return flow


def _policy_binding_shape(binding: PolicyBinding) -> list:
    policy = binding.policy
    return [
        binding.id,
        binding.order,
        binding.negate,
        binding.enabled,
        binding.failure_result,
        binding.timeout,
        binding.group_id,
        binding.user_id,
        [policy.id, policy.type, policy.options] if policy else None,
    ]


def flow_fingerprint(flow: Flow) -> str:
    """A digest of everything that decides what the flow does; any edit changes it."""
    shape = [
        [flow.id, flow.designation, flow.authentication, flow.policy_engine_mode],
        [_policy_binding_shape(binding) for binding in flow.policy_bindings],
        [
            [
                binding.id,
                binding.order,
                binding.evaluate_on_plan,
                binding.re_evaluate_policies,
                binding.policy_engine_mode,
                binding.invalid_response_action,
                [binding.stage.id, binding.stage.type, binding.stage.options],
                [
                    _policy_binding_shape(policy_binding)
                    for policy_binding in binding.policy_bindings
                ],
            ]
            for binding in flow.bindings
        ],
    ]
    encoded = json.dumps(shape, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()[:32]
