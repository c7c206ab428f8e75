"""The one place that combines policy bindings: order, enabled, negate, any/all, failure_result.

Errors fail closed: a binding whose policy raises stops the flow (PolicyFailure), unless the
binding sets `failure_result` explicitly.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from idp.core import metrics
from idp.core.i18n import N_, Sentence
from idp.core.options import OptionsError, options_of
from idp.models import Policy, PolicyBinding
from idp.policies.registry import POLICY_TYPES
from idp.policies.types import DEADLINE, PolicyError, PolicyRequest, PolicyResult

log = logging.getLogger("idp.policies")


# Tuples rather than frozen dataclasses: the engine makes one per binding it asks, and a
# frozen dataclass took longer to build than a group binding takes to check.
class BindingVerdict(NamedTuple):
    binding: PolicyBinding
    passing: bool
    messages: tuple[str, ...]
    error: str | None = None


class EngineResult(NamedTuple):
    """The combined verdict; an Explanation keeps each binding's."""

    passing: bool
    messages: tuple[str, ...]


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


@dataclass(frozen=True, slots=True)
class Gate:
    """What the engine reads of one enabled policy binding, as plain values."""

    binding: PolicyBinding
    negate: bool
    failure_result: bool | None
    timeout: int
    group_id: int | None
    user_id: int | None
    # The bound policy's answer, prepared with its options (None: no policy bound)
    answer: Callable[[PolicyRequest], PolicyResult] | None

    @classmethod
    def of(cls, binding: PolicyBinding) -> "Gate":
        policy = binding.policy
        answer = _prepared(policy) if policy is not None else None
        return cls(
            binding,
            binding.negate,
            binding.failure_result,
            binding.timeout,
            binding.group_id,
            binding.user_id,
            answer,
        )


def _prepared(policy: Policy) -> Callable[[PolicyRequest], PolicyResult]:
    """The policy's answer (PolicyType.prepare), or, when it cannot be asked (its type is not
    installed, its options do not parse), a stand-in that says why."""
    policy_type = POLICY_TYPES.get(policy.type)
    if policy_type is None:
        return _refusal(N_("policy type %(type)s is not installed"), type=repr(policy.type))
    try:
        return policy_type.prepare(options_of(policy, policy_type.Options))
    except OptionsError as error:
        return _refusal(N_("bad options: %(problem)s"), problem=error.sentence)


def _refusal(message: str, **values) -> Callable[[PolicyRequest], PolicyResult]:
    def refuse(request):
        raise PolicyError(message, **values)

    return refuse


def _asking_key(binding: PolicyBinding) -> tuple[int, int]:
    return binding.order, binding.id or 0


def in_asking_order(bindings) -> list[PolicyBinding]:
    if len(bindings) < 2:  # most places have one binding or none: nothing to sort
        return list(bindings)
    return sorted(bindings, key=_asking_key)


def enabled_in_order(bindings) -> list[PolicyBinding]:
    return [binding for binding in in_asking_order(bindings) if binding.enabled]


_GATES = "gatehouse_gates"


def keep_gates(bindings) -> None:
    """Mark a collection of policy bindings that is only read (a cached flow's) with its gates,
    read once: an ORM attribute costs more to read than a group binding costs to check."""
    setattr(bindings, _GATES, _gates(bindings))


def gates_of(bindings) -> tuple[Gate, ...]:
    kept = getattr(bindings, _GATES, None)
    return kept if kept is not None else _gates(bindings)


def _gates(bindings) -> tuple[Gate, ...]:
    return tuple(Gate.of(binding) for binding in enabled_in_order(bindings))


NOTHING_BOUND = PASSED = EngineResult(True, ())
REFUSED = EngineResult(False, ())


def _result(passing: bool, messages: tuple[str, ...]) -> EngineResult:
    if not messages:  # most verdicts say nothing: no result to build
        return PASSED if passing else REFUSED
    return EngineResult(passing, tuple(messages))


def explain_bindings(bindings, mode: str, request: PolicyRequest) -> Explanation:
    verdicts = []
    for gate in gates_of(bindings):
        try:
            verdicts.append(_verdict(gate, request))
        except PolicyFailure as failure:
            return Explanation(tuple(verdicts), None, failure)
    return Explanation(tuple(verdicts), _combine(tuple(verdicts), mode))


def evaluate_bindings(bindings, mode: str, request: PolicyRequest) -> EngineResult:
    """The live verdict; raises PolicyFailure when an error must stop the flow. Errors go to
    the log and /metrics (an explanation's, for the admin's simulator, do not)."""
    gates = gates_of(bindings)
    if not gates:
        return NOTHING_BOUND
    if len(gates) == 1:  # most places: one answer, any and all agree, no verdict to keep
        passing, messages, _ = _reported_answer(gates[0], request)
        return _result(passing, messages)
    verdicts = tuple(
        BindingVerdict(gate.binding, *_reported_answer(gate, request)) for gate in gates
    )
    return _combine(verdicts, mode)


def _reported_answer(gate: Gate, request: PolicyRequest):
    try:
        passing, messages, error = _answer(gate, request)
    except PolicyFailure as failure:
        _report_error(failure.binding, failure.reason)
        raise
    if error is not None:
        _report_error(gate.binding, error)
    return passing, messages, error


def _report_error(binding: PolicyBinding, error) -> None:
    log.warning("policy failed", extra={"policy": binding.subject_label, "error": error})
    policy_type = binding.policy.type if binding.policy_id is not None else "binding"
    result = "failed_closed" if binding.failure_result is None else "failure_result"
    metrics.POLICY_ERRORS.labels(policy_type, result).inc()


def _combine(verdicts: tuple[BindingVerdict, ...], mode: str) -> EngineResult:
    if not verdicts:
        return NOTHING_BOUND
    if len(verdicts) == 1:  # the common case: any and all agree
        (verdict,) = verdicts
        return _result(verdict.passing, verdict.messages)
    combine = all if mode == "all" else any
    passing = combine(verdict.passing for verdict in verdicts)
    messages = tuple(message for verdict in verdicts for message in verdict.messages)
    return _result(passing, messages)


def _verdict(gate: Gate, request: PolicyRequest) -> BindingVerdict:
    return BindingVerdict(gate.binding, *_answer(gate, request))


def _answer(gate: Gate, request: PolicyRequest) -> tuple[bool, tuple[str, ...], Sentence | None]:
    """(passing, messages, error): a plain tuple, as most answers are asked for and dropped."""
    user = request.user
    if gate.group_id is not None:
        return (gate.group_id in user.group_ids) != gate.negate, (), None
    if gate.user_id is not None:
        return (user.id is not None and gate.user_id == user.id) != gate.negate, (), None
    try:
        result = _run_policy(gate.answer, request, gate.timeout)
    except PolicyError as error:
        if gate.failure_result is None:
            raise PolicyFailure(gate.binding, error.sentence) from error
        return gate.failure_result, (), error.sentence
    return result.passing != gate.negate, result.messages, None


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
    return _run_policy(_prepared(policy), request, timeout)


def _run_policy(
    answer: Callable[[PolicyRequest], PolicyResult], request: PolicyRequest, timeout: int
) -> PolicyResult:
    # answering_by, written out: the context manager cost 1 µs a binding, half of what an
    # expression binding costs in all.
    previous = DEADLINE.value
    DEADLINE.value = deadline = time.monotonic() + timeout
    try:
        result = answer(request)
    finally:
        DEADLINE.value = previous
    if time.monotonic() > deadline:
        raise PolicyError(N_("took longer than its timeout of %(timeout)s s"), timeout=timeout)
    return result
