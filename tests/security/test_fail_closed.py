"""Policy errors fail closed: an expression that raises, wherever it is bound, never skips a
stage and never lets the user through; the visitor is told and an event is written."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event
from tests.factories import PASSWORD, make_flow, unique

BROKEN_EXPRESSIONS = [
    "1 / 0",
    "no_such_name",
    "user.attributes['missing']",
    "__import__('os').system('true')",
    "().__class__.__base__.__subclasses__()",
]
STOPPED = "could not be checked"


def flow_with_broken_policy(expression: str, where: str) -> str:
    """identification → password → deny → login, with a policy that raises bound `where`."""
    policy = {
        "name": unique("broken-"),
        "type": "expression",
        "options": {"expression": expression},
    }
    gate = [{"policy": policy["name"]}]
    password = {"stage": "default-authentication-password"}
    deny = {"define": {"name": unique("deny-"), "type": "deny", "options": {"message": "No."}}}
    flow_policies = []
    if where == "password stage, at plan time":
        password.update(policies=gate, evaluate_on_plan=True, re_evaluate_policies=False)
    elif where == "password stage, before it runs":
        password.update(policies=gate, evaluate_on_plan=False, re_evaluate_policies=True)
    elif where == "deny stage":
        deny.update(policies=gate, evaluate_on_plan=False, re_evaluate_policies=True)
    elif where == "the flow itself":
        flow_policies = gate
    return make_flow(
        [
            {"stage": "default-authentication-identification"},
            password,
            deny,
            {"stage": "default-authentication-login"},
        ],
        policies=[policy],
        flow_policies=flow_policies,
    )


PLACES = [
    "password stage, at plan time",
    "password stage, before it runs",
    "deny stage",
    "the flow itself",
]


@pytest.mark.parametrize("where", PLACES)
def test_a_failing_policy_stops_the_flow_and_lets_nobody_through(app, new_visitor, alice, where):
    with app.app_context():
        slugs = [flow_with_broken_policy(expression, where) for expression in BROKEN_EXPRESSIONS]
    for slug in slugs:
        visitor = new_visitor()
        visitor.open(slug)
        if visitor.stage == "identification":
            visitor.submit(slug, {"uid_field": "alice"})
        if visitor.stage == "password":
            visitor.submit(slug, {"password": PASSWORD})
        assert STOPPED in visitor.text, slug
        assert not visitor.is_signed_in, slug
        visitor.close()
    with app.app_context():
        errors = db.session.scalars(select(Event).where(Event.action == "policy_error")).all()
    assert len(errors) >= len(slugs)
