"""The engine's rules, exercised through flows: which stages run for whom, and when."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event
from tests.factories import PASSWORD, make_flow, make_group, make_user

NOTICE = {"name": "notice", "type": "deny", "options": {"message": "Admins use the admin door."}}


def dummy(name, result=True, raise_error=False, message=""):
    return {
        "name": name,
        "type": "dummy",
        "options": {"result": result, "raise_error": raise_error, "message": message},
    }


def sign_in_flow(policies=(), gate=None, **binding):
    """identification → password → [notice, gated] → login."""
    gated = {"define": NOTICE, "policies": list(gate or []), **binding}
    return make_flow(
        [
            {"stage": "default-authentication-identification"},
            {"stage": "default-authentication-password"},
            gated,
            {"stage": "default-authentication-login"},
        ],
        policies=list(policies),
    )


def ends_at_notice(flows, slug, username) -> bool:
    flows.client.get(f"/flow/{slug}/restart")
    flows.sign_in(username, PASSWORD, slug=slug)
    return "Admins use the admin door." in flows.text


@pytest.fixture
def people(app):
    with app.app_context():
        admins = make_group("admins")
        make_user("root", groups=[admins])
        make_user("plain")


def test_group_binding_runs_the_stage_only_for_members(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(gate=[{"group": "admins"}])
    assert ends_at_notice(flows, slug, "root")
    assert not ends_at_notice(flows, slug, "plain")


def test_user_binding_runs_the_stage_only_for_that_user(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(gate=[{"user": "plain"}])
    assert ends_at_notice(flows, slug, "plain")
    assert not ends_at_notice(flows, slug, "root")


def test_negate_inverts_a_binding(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(gate=[{"group": "admins", "negate": True}])
    assert not ends_at_notice(flows, slug, "root")
    assert ends_at_notice(flows, slug, "plain")


def test_disabled_binding_is_ignored(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(gate=[{"group": "admins", "enabled": False}])
    assert ends_at_notice(flows, slug, "plain")  # no enabled bindings: it passes


@pytest.mark.parametrize(
    ("mode", "root_sees_it", "plain_sees_it"),
    [("any", True, True), ("all", False, False)],
)
def test_any_and_all_modes_combine_bindings(app, flows, people, mode, root_sees_it, plain_sees_it):
    with app.app_context():
        slug = sign_in_flow(gate=[{"group": "admins"}, {"user": "plain"}], policy_engine_mode=mode)
    assert ends_at_notice(flows, slug, "root") is root_sees_it
    assert ends_at_notice(flows, slug, "plain") is plain_sees_it


def test_evaluate_on_plan_decides_with_the_visitor_known_at_the_start(app, flows, people):
    # At plan time nobody is signed in, so a group binding fails and the stage is left out,
    # even for an admin.
    with app.app_context():
        slug = sign_in_flow(
            gate=[{"group": "admins"}], evaluate_on_plan=True, re_evaluate_policies=False
        )
    assert not ends_at_notice(flows, slug, "root")


def test_re_evaluate_decides_with_the_pending_user_just_before_the_stage(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(
            gate=[{"group": "admins"}], evaluate_on_plan=False, re_evaluate_policies=True
        )
    assert ends_at_notice(flows, slug, "root")


def test_both_checks_off_means_the_stage_always_runs(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(
            gate=[{"group": "admins"}],
            evaluate_on_plan=False,
            re_evaluate_policies=False,
        )
    assert ends_at_notice(flows, slug, "plain")


def test_both_checks_on_need_both_to_pass(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(
            gate=[{"group": "admins"}], evaluate_on_plan=True, re_evaluate_policies=True
        )
    # anonymous at plan time: left out of the plan, whoever signs in later
    assert not ends_at_notice(flows, slug, "root")


def test_a_policy_error_stops_the_flow_and_never_skips_the_stage(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(
            policies=[dummy("explodes", raise_error=True, message="boom")],
            gate=[{"policy": "explodes"}],
        )
    flows.sign_in("plain", PASSWORD, slug=slug)
    assert "could not be checked" in flows.text
    assert flows.client.get("/me").status_code == 302
    with app.app_context():
        event = db.session.scalars(select(Event).where(Event.action == "policy_error")).one()
        assert event.detail["binding"] == "policy explodes"
        assert "boom" in event.detail["reason"]


def test_a_policy_error_in_any_mode_is_not_outvoted_by_a_passing_binding(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(
            policies=[dummy("explodes2", raise_error=True)],
            gate=[{"user": "plain"}, {"policy": "explodes2", "order": 5}],
        )
    flows.sign_in("plain", PASSWORD, slug=slug)
    assert "could not be checked" in flows.text


@pytest.mark.parametrize(("failure_result", "sees_notice"), [(True, True), (False, False)])
def test_failure_result_set_explicitly_decides_instead(
    app, flows, people, failure_result, sees_notice
):
    with app.app_context():
        slug = sign_in_flow(
            policies=[dummy(f"explodes-{failure_result}", raise_error=True)],
            gate=[{"policy": f"explodes-{failure_result}", "failure_result": failure_result}],
        )
    assert ends_at_notice(flows, slug, "plain") is sees_notice


def test_dummy_policy_messages_explain_a_denied_flow(app, flows):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[dummy("closed", result=False, message="Sign-ups are closed.")],
            flow_policies=[{"policy": "closed"}],
            denied_action="message",
        )
    response = flows.open(slug)
    assert response.status_code == 403
    assert "Sign-ups are closed." in flows.text


def test_flow_policies_are_checked_again_at_every_step(app, flows, people):
    with app.app_context():
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"stage": "default-authentication-password"},
                {"stage": "default-authentication-login"},
            ],
            flow_policies=[{"user": "root", "negate": True}],
            denied_action="message",
        )
    flows.open(slug)
    assert flows.stage == "identification"
    flows.submit(slug, {"uid_field": "root"})
    # The pending user is now root, whom the flow refuses: it stops before the password.
    assert "You may not use this flow." in flows.text
    assert flows.stage == "message"


def test_a_flow_policy_error_stops_the_flow_at_the_start(app, flows):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[dummy("gate-explodes", raise_error=True)],
            flow_policies=[{"policy": "gate-explodes"}],
        )
    response = flows.open(slug)
    assert response.status_code == 403
    assert "could not be checked" in flows.text


@pytest.mark.parametrize(
    ("requirement", "signed_in", "allowed"),
    [
        ("none", False, True),
        ("none", True, True),
        ("require_authenticated", False, False),
        ("require_authenticated", True, True),
        ("require_unauthenticated", False, True),
        ("require_unauthenticated", True, False),
        ("require_superuser", True, False),
    ],
)
def test_authentication_requirement(app, flows, people, requirement, signed_in, allowed):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            authentication=requirement,
            denied_action="message",
        )
    if signed_in:
        flows.sign_in("plain", PASSWORD)
    flows.open(slug)
    assert (flows.stage == "identification") is allowed


def test_superuser_requirement_lets_a_superuser_in(app, flows):
    with app.app_context():
        make_user("boss", superuser=True)
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            authentication="require_superuser",
        )
    flows.sign_in("boss", PASSWORD)
    flows.open(slug)
    assert flows.stage == "identification"


@pytest.mark.parametrize(
    ("action", "next_url", "expected"),
    [
        ("message", "/me", "message"),
        ("message", None, "message"),
        ("message_continue", "/me", "/me"),
        ("message_continue", None, "message"),
        ("continue", "/me", "/me"),
        ("continue", None, "/"),
        ("continue", "https://evil.example/", "/"),
    ],
)
def test_denied_action(app, flows, action, next_url, expected):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            authentication="require_authenticated",
            denied_action=action,
        )
    response = flows.client.get(
        f"/flow/{slug}/", query_string={"next": next_url} if next_url else {}
    )
    if expected == "message":
        assert response.status_code == 403
        assert "Please sign in first." in response.get_data(as_text=True)
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == expected


def test_binding_order_decides_which_messages_come_first(app, flows):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[
                dummy("second", False, message="Second."),
                dummy("first", False, message="First."),
            ],
            flow_policies=[{"policy": "second", "order": 20}, {"policy": "first", "order": 10}],
            denied_action="message",
        )
    flows.open(slug)
    assert "First. Second." in flows.text


def test_no_result_is_cached_across_users(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(gate=[{"group": "admins"}])
    assert ends_at_notice(flows, slug, "root")
    assert not ends_at_notice(flows, slug, "plain")
    assert ends_at_notice(flows, slug, "root")


def test_a_binding_timeout_is_enforced_and_fails_closed(app, flows, people):
    with app.app_context():
        slug = sign_in_flow(
            policies=[{"name": "slow", "type": "dummy", "options": {"wait_seconds": 3}}],
            gate=[{"policy": "slow", "timeout": 1}],
        )
    flows.sign_in("plain", PASSWORD, slug=slug)
    assert "could not be checked" in flows.text
    with app.app_context():
        event = db.session.scalars(select(Event).where(Event.action == "policy_error")).one()
        assert "timeout" in event.detail["reason"]
