"""The one place that combines policy bindings: order, enabled, negate, any/all, failure_result.

Errors fail closed: a binding whose policy raises stops the flow (PolicyFailure), unless the
binding sets `failure_result` explicitly.
"""

import logging
import time
from dataclasses import dataclass

from idp.core import metrics
from idp.core.i18n import N_
from idp.core.options import OptionsError, options_of
from idp.models import Policy, PolicyBinding
from idp.policies.registry import POLICY_TYPES
from idp.policies.types import PolicyError, PolicyRequest, PolicyResult

log = logging.getLogger("idp.policies")


@dataclass(frozen=True)
class BindingVerdict:
    binding: PolicyBinding
    passing: bool
    messages: tuple[str, ...]
    error: str | None = None


@dataclass(frozen=True)
class EngineResult:
    passing: bool
    messages: tuple[str, ...]
    verdicts: tuple[BindingVerdict, ...]


class PolicyFailure(Exception):
    """A policy raised and its binding has no failure_result: the flow must stop."""

    def __init__(self, binding: PolicyBinding, reason: str):
        self.binding = binding
        self.reason = reason
        super().__init__(f"{binding.subject_label} failed: {reason}")


@dataclass(frozen=True)
class Explanation:
    """Every verdict the engine reached, in order. When a policy failed closed, `failure` is
    what evaluate_bindings raises, `result` is None and the later bindings were not asked."""

    verdicts: tuple[BindingVerdict, ...]
    result: EngineResult | None
    failure: PolicyFailure | None = None


def _asking_key(binding: PolicyBinding) -> tuple[int, int]:
    return binding.order, binding.id or 0


def in_asking_order(bindings) -> list[PolicyBinding]:
    if len(bindings) < 2:  # most places have one binding or none: nothing to sort
        return list(bindings)
    return sorted(bindings, key=_asking_key)


def enabled_in_order(bindings) -> list[PolicyBinding]:
    return [binding for binding in in_asking_order(bindings) if binding.enabled]


NOTHING_BOUND = EngineResult(True, (), ())


def explain_bindings(bindings, mode: str, request: PolicyRequest) -> Explanation:
    verdicts = []
    for binding in enabled_in_order(bindings):
        try:
            verdicts.append(evaluate_binding(binding, request))
        except PolicyFailure as failure:
            return Explanation(tuple(verdicts), None, failure)
    return Explanation(tuple(verdicts), _combine(tuple(verdicts), mode))


def evaluate_bindings(bindings, mode: str, request: PolicyRequest) -> EngineResult:
    """The live verdict; raises PolicyFailure when an error must stop the flow."""
    if not bindings:
        return NOTHING_BOUND
    explanation = explain_bindings(bindings, mode, request)
    _report_errors(explanation)
    if explanation.failure is not None:
        raise explanation.failure
    return explanation.result


def _report_errors(explanation: Explanation) -> None:
    """Errors of a real evaluation go to the log and /metrics; a simulation's do not."""
    errors = [(verdict.binding, verdict.error) for verdict in explanation.verdicts if verdict.error]
    if explanation.failure is not None:
        errors.append((explanation.failure.binding, explanation.failure.reason))
    for binding, error in errors:
        log.warning("policy failed", extra={"policy": binding.subject_label, "error": error})
        policy_type = binding.policy.type if binding.policy_id is not None else "binding"
        result = "failed_closed" if binding.failure_result is None else "failure_result"
        metrics.POLICY_ERRORS.labels(policy_type, result).inc()


def _combine(verdicts: tuple[BindingVerdict, ...], mode: str) -> EngineResult:
    if not verdicts:
        return NOTHING_BOUND
    if len(verdicts) == 1:  # the common case: any and all agree
        (verdict,) = verdicts
        return EngineResult(verdict.passing, tuple(verdict.messages), verdicts)
    combine = all if mode == "all" else any
    passing = combine(verdict.passing for verdict in verdicts)
    messages = tuple(message for verdict in verdicts for message in verdict.messages)
    return EngineResult(passing, messages, verdicts)


def evaluate_binding(binding: PolicyBinding, request: PolicyRequest) -> BindingVerdict:
    try:
        result = _subject_result(binding, request)
    except PolicyError as error:
        if binding.failure_result is None:
            raise PolicyFailure(binding, error.sentence) from error
        return BindingVerdict(binding, binding.failure_result, (), error=error.sentence)
    passing = result.passing != binding.negate
    return BindingVerdict(binding, passing, result.messages)


def _subject_result(binding: PolicyBinding, request: PolicyRequest) -> PolicyResult:
    user = request.user
    if binding.group_id is not None:
        return PolicyResult(binding.group_id in user.group_ids)
    if binding.user_id is not None:
        return PolicyResult(user.id is not None and binding.user_id == user.id)
    return _policy_result(binding, request)


def _policy_result(binding: PolicyBinding, request: PolicyRequest) -> PolicyResult:
    return evaluate_policy(binding.policy, request, binding.timeout)


def rules_of(policy: Policy) -> tuple[str, ...]:
    """The policy's rules in words (PolicyType.rules): the field first, then each rule; ()
    when its type says nothing up front or is not installed, or its options do not parse."""
    policy_type = POLICY_TYPES.get(policy.type)
    if policy_type is None:
        return ()
    try:
        return policy_type.rules(policy_type.parse_options(policy.options))
    except OptionsError:
        return ()


def evaluate_policy(policy: Policy, request: PolicyRequest, timeout: int) -> PolicyResult:
    """One policy on its own; raises PolicyError when it cannot decide in time."""
    policy_type = POLICY_TYPES.get(policy.type)
    if policy_type is None:
        raise PolicyError(N_("policy type %(type)s is not installed"), type=repr(policy.type))
    try:
        options = options_of(policy, policy_type.Options)
    except OptionsError as error:
        raise PolicyError(N_("bad options: %(problem)s"), problem=error.sentence) from None
    deadline = time.monotonic() + timeout
    result = policy_type.evaluate(request.with_deadline(deadline), options)
    if time.monotonic() > deadline:
        raise PolicyError(N_("took longer than its timeout of %(timeout)s s"), timeout=timeout)
    return result
