"""The policy engine on bindings built in memory: no flow, no HTTP."""

import time

import pytest

from idp.models import Group, Policy, PolicyBinding
from idp.policies import engine
from idp.policies.base import PolicyType
from idp.policies.engine import PolicyFailure, evaluate_bindings, explain_bindings, keep_gates
from idp.policies.expression import compile_expression
from idp.policies.registry import POLICY_TYPES
from idp.policies.types import ANONYMOUS, PASSES, PolicyRequest, PolicyUser, policy_deadline


class KeptList(list):
    """A collection that can be marked with its gates, as a cached flow's ORM list is."""


MEMBER = PolicyUser(id=7, username="m", is_authenticated=True, group_ids=frozenset({1}))


def group_binding(**fields):
    return PolicyBinding(
        id=fields.pop("id", 1),
        group_id=1,
        group=Group(id=1, name="g"),
        order=fields.pop("order", 0),
        negate=fields.pop("negate", False),
        enabled=fields.pop("enabled", True),
        timeout=30,
        **fields,
    )


def policy_binding(options, **fields):
    policy = Policy(name=fields.pop("name", "p"), type="dummy", options=options)
    return PolicyBinding(
        id=fields.pop("id", 2),
        policy=policy,
        policy_id=1,
        order=0,
        negate=fields.pop("negate", False),
        enabled=True,
        timeout=fields.pop("timeout", 30),
        **fields,
    )


def test_no_bindings_pass():
    assert evaluate_bindings([], "all", PolicyRequest()).passing


def test_group_binding_for_member_and_anonymous():
    assert evaluate_bindings([group_binding()], "any", PolicyRequest(user=MEMBER)).passing
    assert not evaluate_bindings([group_binding()], "any", PolicyRequest(user=ANONYMOUS)).passing


def test_negate_applies_to_the_result_not_to_failure_result():
    binding = policy_binding({"raise_error": True}, negate=True, failure_result=False)
    assert not evaluate_bindings([binding], "any", PolicyRequest()).passing


def test_error_without_failure_result_raises_policy_failure():
    binding = policy_binding({"raise_error": True, "message": "nope"}, name="broken")
    with pytest.raises(PolicyFailure, match="policy broken failed: nope"):
        evaluate_bindings([binding], "any", PolicyRequest())


def test_bad_policy_options_fail_closed():
    with pytest.raises(PolicyFailure, match="bad options"):
        evaluate_bindings([policy_binding({"result": "yes"})], "any", PolicyRequest())


def test_unknown_policy_type_fails_closed():
    binding = policy_binding({})
    binding.policy.type = "astrology"
    with pytest.raises(PolicyFailure, match="not installed"):
        evaluate_bindings([binding], "any", PolicyRequest())


def test_verdicts_follow_binding_order():
    first = policy_binding({"result": False, "message": "a"}, id=5)
    first.order = 1
    second = policy_binding({"result": True, "message": "b"}, id=6)
    second.order = -1
    explanation = explain_bindings([first, second], "all", PolicyRequest())
    assert [verdict.messages for verdict in explanation.verdicts] == [("b",), ("a",)]
    assert not explanation.result.passing
    assert evaluate_bindings([first, second], "all", PolicyRequest()) == explanation.result


class DeadlineWitness(PolicyType):
    """Passes, noting how long it was given: the engine's deadline for its binding."""

    name = "deadline_witness"
    label = "Deadline witness"

    def __init__(self):
        self.seconds_given = []

    def evaluate(self, request, options):
        self.seconds_given.append(policy_deadline() - time.monotonic())
        return PASSES


def test_each_binding_is_given_its_own_timeout_and_the_thread_none_after(monkeypatch):
    witness = DeadlineWitness()
    monkeypatch.setitem(POLICY_TYPES, witness.name, witness)
    bindings = [
        policy_binding({}, id=index, timeout=timeout) for index, timeout in ((1, 5), (2, 60))
    ]
    for binding in bindings:
        binding.policy.type = witness.name
    assert evaluate_bindings(bindings, "all", PolicyRequest()).passing
    short, long = witness.seconds_given
    assert 4 < short <= 5 and 59 < long <= 60
    assert policy_deadline() is None


def test_a_policy_slower_than_its_timeout_fails_closed_even_when_it_passes(monkeypatch):
    clock = iter([100.0, 100.0 + 31])  # the deadline is set, then read once it answered
    monkeypatch.setattr(engine.time, "monotonic", lambda: next(clock))
    with pytest.raises(PolicyFailure, match="longer than its timeout of 30 s"):
        evaluate_bindings([policy_binding({"result": True})], "any", PolicyRequest())


def test_a_kept_expression_binding_is_compiled_once_not_looked_up_per_answer():
    policy = Policy(name="e", type="expression", options={"expression": "request.ip == '10.0.0.1'"})
    binding = PolicyBinding(
        id=3, policy=policy, policy_id=3, order=0, negate=False, enabled=True, timeout=30
    )
    bindings = KeptList([binding])
    keep_gates(bindings)
    asked = compile_expression.cache_info()
    near, far = PolicyRequest(ip="10.0.0.1"), PolicyRequest(ip="10.9.9.9")
    verdicts = [evaluate_bindings(bindings, "all", request).passing for request in (near, far)]
    assert verdicts == [True, False]
    assert compile_expression.cache_info()[:2] == asked[:2]  # no hit, no miss
