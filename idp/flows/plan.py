"""The flow plan: a JSON value in the signed session cookie.

It holds IDs and plain values only, stamped with the flow's fingerprint and an expiry; a
plan that is expired, malformed or made from another version of the flow is discarded.
"""

import copy
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field, fields

from flask import session

from idp.identity.sessions import SESSION_KEY

PLANS_KEY = "plans"


@dataclass
class FlowPlan:
    flow_slug: str
    fingerprint: str
    bindings: list[int]
    expires_at: float
    next_url: str = ""
    position: int = 0
    context: dict = field(default_factory=dict)
    plan_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    # Which session the plan belongs to: a plan is never carried across a sign-in or a
    # sign-out, so the next person at a shared browser cannot pick it up.
    session_stamp: str = ""
    # Answered steps that may be gone back to (idp.flows.steps): [binding id, position,
    # the plan context from before the answer].
    history: list = field(default_factory=list)

    @property
    def current_binding_id(self) -> int | None:
        if self.position < len(self.bindings):
            return self.bindings[self.position]
        return None

    def advance(self) -> None:
        self.position += 1

    def restart(self, keep_context: bool) -> None:
        self.position = 0
        self.history = []
        if not keep_context:
            self.context = {}

    @classmethod
    def new(cls, flow_slug, fingerprint, bindings, lifetime, next_url="") -> "FlowPlan":
        return cls(flow_slug, fingerprint, list(bindings), time.time() + lifetime, next_url)


PLAN_FIELDS = tuple(item.name for item in fields(FlowPlan))


def load_plan(slug: str, fingerprint: str) -> FlowPlan | None:
    raw = (session.get(PLANS_KEY) or {}).get(slug)
    if not isinstance(raw, dict):
        return None
    try:
        plan = FlowPlan(**raw)
    except TypeError:
        plan = None
    if plan is None or not _is_well_formed(plan) or plan.fingerprint != fingerprint:
        drop_plan(slug)
        return None
    if not hmac.compare_digest(plan.session_stamp, current_session_stamp()):
        drop_plan(slug)
        return None
    if plan.expires_at <= time.time():  # its lifetime has run
        drop_plan(slug)
        return None
    return plan


def save_plan(plan: FlowPlan) -> None:
    plan.session_stamp = current_session_stamp()
    plans = dict(session.get(PLANS_KEY) or {})
    plans[plan.flow_slug] = plan_to_dict(plan)
    session[PLANS_KEY] = plans


def drop_plan(slug: str) -> None:
    plans = dict(session.get(PLANS_KEY) or {})
    if plans.pop(slug, None) is not None:
        session[PLANS_KEY] = plans


def current_session_stamp() -> str:
    """A digest of this browser's session key, or "anonymous" before sign-in."""
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        return "anonymous"
    return hashlib.sha256(f"plan-stamp:{key}".encode()).hexdigest()[:24]


def _is_well_formed(plan: FlowPlan) -> bool:
    return (
        isinstance(plan.bindings, list)
        and all(isinstance(item, int) for item in plan.bindings)
        and isinstance(plan.position, int)
        and 0 <= plan.position <= len(plan.bindings)
        and isinstance(plan.context, dict)
        and isinstance(plan.expires_at, int | float)
        and isinstance(plan.next_url, str)
        and isinstance(plan.plan_id, str)
        and isinstance(plan.session_stamp, str)
        and isinstance(plan.history, list)
        and all(_is_history_entry(entry, len(plan.bindings)) for entry in plan.history)
    )


def _is_history_entry(entry, binding_count: int) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 3
        and isinstance(entry[0], int)
        and isinstance(entry[1], int)
        and 0 <= entry[1] < binding_count
        and isinstance(entry[2], dict)
    )


def plan_to_dict(plan: FlowPlan) -> dict:
    """The plan as JSON-safe data, for the cookie or to keep server-side (a token that resumes
    the flow). Copied by hand: dataclasses.asdict copies every leaf one by one, and this runs
    several times per flow request."""
    data = {name: getattr(plan, name) for name in PLAN_FIELDS}
    data["bindings"] = list(plan.bindings)
    data["context"] = copy.deepcopy(plan.context)
    data["history"] = copy.deepcopy(plan.history)
    return data


def plan_from_dict(data) -> FlowPlan | None:
    """A plan kept server-side (plan_to_dict), or None when it is malformed."""
    if not isinstance(data, dict):
        return None
    try:
        plan = FlowPlan(**data)
    except TypeError:
        return None
    return plan if _is_well_formed(plan) else None


def with_context(data: dict, context: dict) -> dict:
    """A kept plan (plan_to_dict) with its context replaced by `context`."""
    return {**data, "context": dict(context)}


def resume_plan(data: dict, updates: dict, lifetime: int, advance: bool = True) -> FlowPlan | None:
    """Put a plan kept server-side into this browser's session, with `updates` merged and the
    current stage done (unless not `advance`: the stage is asked again). A malformed plan
    gives None; a plan for an older version of the flow is discarded on its next load, like
    any other."""
    plan = plan_from_dict(data)
    if plan is None:
        return None
    plan.context.update(updates)
    plan.expires_at = time.time() + lifetime
    if advance:
        plan.advance()
    save_plan(plan)
    return plan
