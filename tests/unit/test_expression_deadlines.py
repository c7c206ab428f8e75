"""The deadlines of the expressions that are not policies, on a clock the test moves: a
prompt field's initial value and an OpenID Connect scope mapping each give up after 2 s, and
the thread is left with no deadline afterwards."""

from types import MappingProxyType

import pytest

from idp.models import ScopeMapping
from idp.policies import expression
from idp.policies.expression import expression_scope
from idp.policies.types import PolicyRequest, PolicyUser, policy_deadline
from idp.providers.oauth2 import scope_mappings
from idp.stages.prompt import initial
from idp.stages.prompt.options import PromptField

USER = PolicyUser(id=1, username="ada", is_authenticated=True, groups=("admins", "staff"))


class MovableClock:
    """time.monotonic's stand-in: each reading is `step` seconds after the one before."""

    def __init__(self, step: float):
        self.now = 1000.0
        self.step = step

    def monotonic(self) -> float:
        reading = self.now
        self.now += self.step
        return reading


@pytest.fixture
def clock(monkeypatch):
    """Readings 1 s apart, unless a test changes the step: the 2 s deadline is set at the
    first reading, so the third is past it."""
    moved = MovableClock(step=1.0)
    for module in (expression, initial, scope_mappings):
        monkeypatch.setattr(module, "time", moved)
    return moved


def initial_value(source: str) -> str:
    field = PromptField(key="teams", initial_value_expression=source)
    request = PolicyRequest(user=USER, context=MappingProxyType({}))
    return initial._evaluated(field, request)


def test_an_initial_value_in_time_is_given(clock):
    clock.step = 0.1
    assert initial_value("user.groups | join(',')") == "admins,staff"
    assert policy_deadline() is None


def test_an_initial_value_past_its_deadline_leaves_the_field_empty(clock):
    # set at 1000 (deadline 1002); the join checks at 1001, the list it reads out at 1002+
    assert initial_value("user.groups | map('upper') | join(',')") == ""
    assert policy_deadline() is None


def claims_of(source: str):
    scope = expression_scope({"user": USER, "application": None, "scopes": ("teams",)})
    return scope_mappings._evaluate(ScopeMapping(name="teams", expression=source), scope)


def test_a_scope_mapping_in_time_gives_its_claims(clock):
    clock.step = 0.1
    assert claims_of("{'teams': user.groups | list}") == ({"teams": ["admins", "staff"]}, None)


def test_a_scope_mapping_that_runs_past_its_deadline_gives_nothing(clock):
    claims, failure = claims_of("{'teams': user.groups | map('upper') | list}")
    assert claims == {}
    assert "timeout" in failure.reason
    assert policy_deadline() is None


def test_a_scope_mapping_that_answers_late_gives_nothing(clock):
    """No call inside it ever looks at the clock: the check after it answers catches it."""
    clock.step = 3.0
    claims, failure = claims_of("{'name': user.username}")
    assert claims == {}
    assert "took longer than 2 s" in failure.reason
