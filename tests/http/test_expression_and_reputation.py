"""Expression and reputation policies at work in flows."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event, Policy, ReputationScore
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_group, make_user


def test_design_example_expression_gates_a_stage_for_admins(app, flows):
    with app.app_context():
        make_user("ada", groups=[make_group("admins")])
        make_user("bob")
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"stage": "default-authentication-password"},
                {
                    "define": {
                        "name": "admin-notice",
                        "type": "deny",
                        "options": {"message": "Admins sign in at the admin entrance"},
                    },
                    "policies": [{"policy": "only-admins"}],
                },
                {"stage": "default-authentication-login"},
            ],
            policies=[
                {
                    "name": "only-admins",
                    "type": "expression",
                    "options": {"expression": "'admins' in user.groups"},
                }
            ],
        )
    flows.sign_in("ada", PASSWORD, slug=slug)
    assert "Admins sign in at the admin entrance" in flows.text
    other = FlowDriver(app.test_client())
    other.sign_in("bob", PASSWORD, slug=slug)
    assert other.client.get("/me").status_code == 200


@pytest.mark.parametrize(
    "expression", ["user.__class__.__mro__", "[user] | map(attribute='__class__') | list"]
)
def test_an_expression_that_breaks_out_stops_the_flow(app, flows, expression):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[
                {
                    "name": "sneaky",
                    "type": "expression",
                    "options": {"expression": expression},
                }
            ],
            flow_policies=[{"policy": "sneaky"}],
        )
    flows.open(slug)
    assert "could not be checked" in flows.text


def test_an_expression_stored_with_half_a_surrogate_pair_stops_the_flow_without_a_500(app, flows):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[{"name": "odd", "type": "expression", "options": {"expression": "true"}}],
            flow_policies=[{"policy": "odd"}],
        )
        # As saved before such text was refused.
        policy = db.session.scalar(select(Policy).where(Policy.name == "odd"))
        policy.options = {"expression": "deny('\\udcff')", "message": ""}
        db.session.commit()
    flows.open(slug)
    assert "could not be checked" in flows.text


def test_an_error_quoting_a_huge_value_is_cut_short_in_the_event(app, flows):
    huge = " ~ ".join(["'a' * 9999"] * 150)  # 1.5 million characters, quoted by the error
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[
                {
                    "name": "quoting",
                    "type": "expression",
                    "options": {"expression": f"{{}}[{huge}]"},
                }
            ],
            flow_policies=[{"policy": "quoting"}],
        )
    flows.open(slug)
    assert "could not be checked" in flows.text
    with app.app_context():
        (event,) = db.session.scalars(select(Event).where(Event.action == "policy_error"))
    assert "has no attribute 'aaa" in event.detail["reason"]
    assert len(event.detail["reason"]) < 400


def test_an_expression_can_gate_on_the_client_network(app):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[
                {
                    "name": "office-only",
                    "type": "expression",
                    "options": {
                        "expression": "ip_in_network(request.ip, '10.0.0.0/8')",
                        "message": "Only from the office.",
                    },
                }
            ],
            flow_policies=[{"policy": "office-only"}],
            denied_action="message",
        )
    outside = FlowDriver(app.test_client())
    outside.open(slug)
    assert "Only from the office." in outside.text
    inside = FlowDriver(app.test_client())
    inside.client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    inside.open(slug)
    assert inside.stage == "identification"


def test_failures_lower_the_reputation_and_gate_a_deny_stage(app):
    with app.app_context():
        make_user("rita")
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {
                    "define": {
                        "name": "bad-actors-out",
                        "type": "deny",
                        "options": {"message": "Slow down."},
                    },
                    "policies": [{"policy": "bad-actor"}],
                },
                {"stage": "default-authentication-password"},
                {"stage": "default-authentication-login"},
            ],
            policies=[
                {
                    "name": "bad-actor",
                    "type": "reputation",
                    "options": {"threshold": -3, "check_ip": False},
                }
            ],
        )
    for _ in range(3):
        driver = FlowDriver(app.test_client())
        driver.sign_in("rita", "wrong", slug=slug)
        assert "Invalid username or password." in driver.text
    driver = FlowDriver(app.test_client())
    driver.open(slug)
    driver.submit(slug, {"uid_field": "rita"})
    assert "Slow down." in driver.text
    with app.app_context():
        scores = {
            (row.scope, row.key): row.score for row in db.session.scalars(select(ReputationScore))
        }
    assert scores[("username", "rita")] == -3
    assert scores[("ip", "127.0.0.1")] == -3


def test_success_raises_the_reputation_again(app, flows):
    with app.app_context():
        make_user("sam")
    FlowDriver(app.test_client()).sign_in("sam", "wrong")
    flows.sign_in("sam", PASSWORD)
    with app.app_context():
        from idp.protection.reputation import current_score

        assert current_score("username", "sam") == 0
