"""Who may run a flow, which stages a plan keeps, and whether a stage runs when reached."""

from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from flask import request

from idp.core import network
from idp.core.i18n import N_, translated
from idp.core.sealing import is_sealed
from idp.flows.context import PENDING_USER_ID, resolve_pending_user
from idp.flows.plan import FlowPlan
from idp.identity.accounts import groups_of
from idp.identity.site_settings import is_enrollment_open
from idp.models import Flow, StageBinding, User
from idp.policies.engine import evaluate_bindings
from idp.policies.types import ANONYMOUS, PolicyRequest, PolicyUser

# What the visitor reads when a policy fails closed (raised, and no failure_result is set).
POLICY_ERROR_MESSAGE = N_(
    "A rule for this step could not be checked, so we stopped here to be safe. "
    "Please try again later or tell your administrator."
)
REQUIREMENT_MESSAGES = {
    "require_authenticated": N_("Please sign in first."),
    "require_unauthenticated": N_("You are already signed in."),
    "require_superuser": N_("Only administrators may use this."),
}

SIGN_UP_CLOSED = N_(
    "Sign-up is closed on this site. Ask an administrator for an account or an invitation."
)


@dataclass(frozen=True)
class Denial:
    message: str


def _policy_user(user: User | None) -> PolicyUser:
    if user is None:
        return ANONYMOUS
    return PolicyUser.from_user(user, groups_of(user))


def _visible_context(data) -> dict:
    return {key: value for key, value in data.items() if not is_sealed(value)}


def build_policy_request(flow: Flow, data, current_user: User | None) -> PolicyRequest:
    """The facts policies see: the pending user, else the signed-in user, else anonymous."""
    return policy_request_for(
        flow,
        data,
        current_user,
        ip=network.client_ip(),
        user_agent=network.user_agent(),
        path=request.path,
        args=request.args.to_dict(),
    )


def policy_request_for(
    flow: Flow, data, current_user: User | None, *, ip: str, user_agent="", path="", args=None
) -> PolicyRequest:
    """build_policy_request with the visit's facts given rather than read from the request
    (the admin's simulator describes a visit that is not happening)."""
    user = resolve_pending_user(data) if data else None
    return PolicyRequest(
        user=_policy_user(user or current_user),
        ip=ip,
        user_agent=user_agent,
        path=path,
        args=MappingProxyType(dict(args or {})),
        context=MappingProxyType(_visible_context(data)),
        flow_slug=flow.slug,
        flow_designation=flow.designation,
    )


def _meets_requirement(requirement: str, user: User | None) -> bool:
    if requirement == "require_authenticated":
        return user is not None
    if requirement == "require_unauthenticated":
        return user is None
    if requirement == "require_superuser":
        return user is not None and user.is_superuser
    return True


# Every function below takes `evaluate` (evaluate_bindings' signature) so that the admin's
# simulator runs these very rules while it keeps each policy's verdict.


def check_access(
    flow: Flow, policy_request: PolicyRequest, current_user: User | None, evaluate=evaluate_bindings
):
    """A Denial when this visitor may not use the flow now; raises PolicyFailure on errors."""
    if not _meets_requirement(flow.authentication, current_user):
        return Denial(REQUIREMENT_MESSAGES[flow.authentication])
    if needs_open_sign_up(flow) and not is_enrollment_open():
        return Denial(SIGN_UP_CLOSED)
    result = evaluate(flow.policy_bindings, flow.policy_engine_mode, policy_request)
    if not result.passing:
        said = " ".join(translated(message) for message in result.messages)
        return Denial(said or N_("You may not use this flow."))
    return None


def needs_open_sign_up(flow: Flow) -> bool:
    """An enrollment flow anyone may start is open sign-up, which the `enrollment` setting
    turns on and off; one that asks for an invitation first is not (an administrator handed
    the link out), so invitations work while sign-up is off."""
    if flow.designation != "enrollment":
        return False
    return not any(
        binding.stage.type == "invitation"
        and not (binding.stage.options or {}).get("continue_flow_without_invitation")
        for binding in flow.bindings
    )


def make_plan(
    flow,
    policy_request,
    fingerprint,
    lifetime,
    next_url="",
    current_user=None,
    evaluate=evaluate_bindings,
) -> FlowPlan:
    kept = [
        check.binding_id
        for check in plan_checks(flow)
        if not check.evaluate_on_plan
        or evaluate(check.policy_bindings, check.mode, policy_request).passing
    ]
    plan = FlowPlan.new(flow.slug, fingerprint, kept, lifetime, next_url)
    if current_user is not None:
        # A signed-in visitor is the flow's user until a stage names someone else.
        plan.context[PENDING_USER_ID] = current_user.id
    return plan


class PlanCheck(NamedTuple):
    """What make_plan reads of a stage binding."""

    binding_id: int
    evaluate_on_plan: bool
    policy_bindings: list
    mode: str


_PLAN_CHECKS = "gatehouse_plan_checks"


def keep_plan_checks(flow: Flow) -> None:
    """Mark a flow that is only read (a cached one) with its plan checks, read once: the
    planner asks each stage binding's, and an ORM attribute is slow to read."""
    flow.__dict__[_PLAN_CHECKS] = _plan_checks(flow)


def plan_checks(flow: Flow) -> tuple[PlanCheck, ...]:
    kept = flow.__dict__.get(_PLAN_CHECKS)
    return kept if kept is not None else _plan_checks(flow)


def _plan_checks(flow: Flow) -> tuple[PlanCheck, ...]:
    return tuple(
        PlanCheck(
            binding.id,
            binding.evaluate_on_plan,
            binding.policy_bindings,
            binding.policy_engine_mode,
        )
        for binding in flow.bindings
    )


def passes(
    binding: StageBinding, policy_request: PolicyRequest, evaluate=evaluate_bindings
) -> bool:
    result = evaluate(binding.policy_bindings, binding.policy_engine_mode, policy_request)
    return result.passing


def runs_now(binding: StageBinding, make_policy_request, evaluate=evaluate_bindings) -> bool:
    """Checked just before a stage is shown, with the pending user known by then. The policy
    request is built only when the binding asks for a check."""
    return not binding.re_evaluate_policies or passes(binding, make_policy_request(), evaluate)
