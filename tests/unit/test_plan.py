import time

import pytest
from flask import Flask

from idp.flows.plan import (
    PLANS_KEY,
    FlowPlan,
    drop_plan,
    load_plan,
    plan_from_dict,
    plan_to_dict,
    save_plan,
    with_context,
)


@pytest.fixture
def app():
    """The plan codec needs a request and its session, not Gatehouse: a bare Flask app."""
    app = Flask(__name__)
    app.secret_key = "test-secret-key-for-the-plan-codec"
    return app


def test_plan_round_trips_through_the_session(app):
    with app.test_request_context():
        plan = FlowPlan.new("login", "abc", [1, 2, 3], 60, "/me")
        plan.context["uid"] = "alice"
        plan.advance()
        save_plan(plan)
        loaded = load_plan("login", "abc")
        assert loaded == plan
        assert loaded.current_binding_id == 2


def test_plan_for_another_fingerprint_is_discarded(app):
    from flask import session

    with app.test_request_context():
        save_plan(FlowPlan.new("login", "old", [1], 60))
        assert load_plan("login", "new") is None
        assert "login" not in session[PLANS_KEY]


def test_expired_plan_is_discarded(app):
    with app.test_request_context():
        plan = FlowPlan.new("login", "abc", [1], 60)
        plan.expires_at = time.time() - 1
        save_plan(plan)
        assert load_plan("login", "abc") is None


def test_plans_of_different_flows_live_side_by_side(app):
    with app.test_request_context():
        save_plan(FlowPlan.new("a", "x", [1], 60))
        save_plan(FlowPlan.new("b", "y", [2], 60))
        drop_plan("a")
        assert load_plan("a", "x") is None
        assert load_plan("b", "y").bindings == [2]


def test_unknown_fields_in_a_stored_plan_discard_it(app):
    from flask import session

    with app.test_request_context():
        session[PLANS_KEY] = {"login": {"flow_slug": "login", "evil": 1}}
        assert load_plan("login", "abc") is None


def test_restart_keeps_or_clears_the_context():
    plan = FlowPlan.new("f", "x", [1, 2], 60)
    plan.context["a"] = 1
    plan.advance()
    plan.restart(keep_context=True)
    assert plan.position == 0 and plan.context == {"a": 1}
    plan.restart(keep_context=False)
    assert plan.context == {}


def test_a_kept_plan_reads_back_through_the_codec():
    plan = FlowPlan.new("recover", "abc", [4, 5], 60)
    plan.advance()
    kept = with_context(plan_to_dict(plan), {"uid": "alice"})
    read = plan_from_dict(kept)
    assert read.current_binding_id == 5
    assert read.context == {"uid": "alice"}
    assert plan.context == {}  # the kept copy has its own context


def test_a_malformed_kept_plan_reads_as_none():
    kept = plan_to_dict(FlowPlan.new("recover", "abc", [4], 60))
    assert plan_from_dict({}) is None
    assert plan_from_dict(None) is None
    assert plan_from_dict({**kept, "unknown": 1}) is None
    assert plan_from_dict({**kept, "position": 7}) is None
    assert plan_from_dict({**kept, "bindings": ["4"]}) is None
