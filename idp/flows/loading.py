"""Loading a flow with everything the engine needs, in a fixed number of queries, and the
per-worker cache of flows being run."""

import hashlib
import json
import threading
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from idp.core.database import loaded_apart
from idp.core.extensions import db
from idp.core.options import keep_parsed_options
from idp.flows import revision
from idp.flows.planner import keep_plan_checks
from idp.models import Flow, PolicyBinding, StageBinding
from idp.policies.engine import keep_gates

CACHED_FLOWS = 256


def _policy_binding_subjects():
    return (
        joinedload(PolicyBinding.policy),
        joinedload(PolicyBinding.group),
        joinedload(PolicyBinding.user),
    )


def load_flow(slug: str, session=None) -> Flow | None:
    """Three queries whatever the size of the flow: the flow, its stage bindings with their
    stages, and every policy binding of the flow and of its stage bindings with its subject.

    The collections are filled by hand: selectinload's machinery cost more than the queries
    themselves (half of a sign-in's time outside bcrypt, see bench/signin.py)."""
    session = session or db.session
    flow = session.scalar(select(Flow).where(Flow.slug == slug))
    if flow is None:
        return None
    bindings = session.scalars(
        select(StageBinding)
        .where(StageBinding.flow_id == flow.id)
        .options(joinedload(StageBinding.stage))
        .order_by(StageBinding.order, StageBinding.id)
    ).all()
    policy_bindings = session.scalars(
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


@dataclass(frozen=True)
class _Cached:
    revision: str
    flow: Flow


def load_running_flow(slug: str) -> Flow | None:
    """The flow to run, from this worker's cache while the flows revision is unchanged: one
    small query instead of three (none when the request read the revision with its signed-in
    session), and no objects built.

    A cached flow is shared by every request (and thread) of the worker, detached from any
    session: it is only read, never changed or added to a session. Admin pages, import and
    export edit flows and use load_flow."""
    current = revision.request_revision(db.session) or revision.read_revision(db.session)
    if current is None or revision.changed_in_this_transaction(db.session):
        return load_flow(slug)
    revision.remember_for_request(current)
    cache = _cache()
    entry = cache.get(slug)
    if entry is not None and entry.revision == current:
        return entry.flow
    flow = _load_detached(slug)
    if flow is None:
        return None  # not kept: any address may be asked for
    _keep_what_is_read(flow)
    with _CACHE_LOCK:
        cache[slug] = _Cached(current, flow)
        cache.move_to_end(slug)
        while len(cache) > CACHED_FLOWS:
            cache.popitem(last=False)
    return flow


_CACHE_LOCK = threading.Lock()
_FINGERPRINT = "gatehouse_fingerprint"
_BY_ID = "gatehouse_bindings_by_id"


def bindings_by_id(flow: Flow) -> dict[int, StageBinding]:
    """The flow's stage bindings by id; a cached flow carries its own, made once."""
    known = flow.__dict__.get(_BY_ID)
    if known is not None:
        return known
    return {binding.id: binding for binding in flow.bindings}


def _cache() -> OrderedDict:
    # Per app: tests make an app per test on a database they empty in between.
    return current_app.extensions.setdefault("gatehouse.flows", OrderedDict())


def _load_detached(slug: str) -> Flow | None:
    return loaded_apart(db.session, lambda loader: load_flow(slug, loader))


def _keep_what_is_read(flow: Flow) -> None:
    """Work out once what every request of a cached flow reads (it never changes): parsed
    options, the engine's gates and plan checks, the fingerprint, the bindings by id."""
    for binding in flow.bindings:
        keep_parsed_options(binding.stage)
    for policy_binding in _all_policy_bindings(flow):
        if policy_binding.policy is not None:
            keep_parsed_options(policy_binding.policy)
    keep_gates(flow.policy_bindings)
    for binding in flow.bindings:
        keep_gates(binding.policy_bindings)
    keep_plan_checks(flow)
    flow.__dict__[_FINGERPRINT] = flow_fingerprint(flow)
    flow.__dict__[_BY_ID] = bindings_by_id(flow)


def _all_policy_bindings(flow: Flow):
    yield from flow.policy_bindings
    for binding in flow.bindings:
        yield from binding.policy_bindings


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
    """A digest of everything that decides what the flow does; any edit changes it.
    A cached flow (which nothing changes) carries its own, worked out once."""
    known = flow.__dict__.get(_FINGERPRINT)
    if known is not None:
        return known
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
