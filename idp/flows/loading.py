"""Loading a flow with everything the engine needs, in a fixed number of queries."""

import hashlib
import json

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from idp.extensions import db
from idp.models import Flow, PolicyBinding, StageBinding


def _policy_binding_subjects():
    return (
        joinedload(PolicyBinding.policy),
        joinedload(PolicyBinding.group),
        joinedload(PolicyBinding.user),
    )


def load_flow(slug: str) -> Flow | None:
    """One select per relationship level: five queries whatever the size of the flow."""
    return db.session.scalar(
        select(Flow)
        .where(Flow.slug == slug)
        .options(
            selectinload(Flow.bindings).selectinload(StageBinding.stage),
            selectinload(Flow.bindings)
            .selectinload(StageBinding.policy_bindings)
            .options(*_policy_binding_subjects()),
            selectinload(Flow.policy_bindings).options(*_policy_binding_subjects()),
        )
    )


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
