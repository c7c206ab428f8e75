"""CSRF on every POST: each route of the app that accepts POST (flows, the account page, the
admin, the stage types' own routes) is posted to without a valid token, as a signed-in
superuser, against real objects. Every one is refused with a 4xx and changes nothing."""

from dataclasses import dataclass

import pytest
from flask import url_for
from sqlalchemy import select

from idp import authenticators
from idp.extensions import db
from idp.invitations import create_invitation
from idp.models import Flow, Policy, PolicyBinding, StageBinding, User, UserSession
from tests import factories
from tests.conftest import csrf_token
from tests.database_state import table_rows

RECOVERY = "default-recovery-flow"


@dataclass
class Scene:
    """Real objects for every kind of id a POST route takes."""

    values: dict
    overrides: dict  # endpoint -> values that differ for it


@pytest.fixture
def scene(app, new_visitor, mailbox):
    with app.app_context():
        factories.make_user("root", superuser=True)
        group = factories.make_group()
        factories.make_user("victim", groups=[group])
        slug = factories.make_flow(
            [
                {
                    "define": {"name": "csrf-first", "type": "deny"},
                    "policies": [{"policy": "csrf-policy"}],
                },
                {"define": {"name": "csrf-second", "type": "deny"}},
            ],
            policies=[
                {"name": "csrf-policy", "type": "expression", "options": {"expression": "True"}}
            ],
        )
        invitation, _ = create_invitation(name="csrf")
        db.session.commit()
        flow = db.session.scalar(select(Flow).where(Flow.slug == slug))
        binding = db.session.scalar(
            select(StageBinding).where(StageBinding.flow_id == flow.id).order_by(StageBinding.order)
        )
        policy_binding_id = db.session.scalar(select(PolicyBinding.id))
        policy_id = db.session.scalar(select(Policy.id).where(Policy.name == "csrf-policy"))
        ids = {"flow": slug, "binding": binding.id, "stage": binding.stage_id}
        ids.update(group=group.id, invitation=invitation.id, policy=policy_id)
    root, root_elsewhere, victim = new_visitor(), new_visitor(), new_visitor()
    for visitor, name in ((root, "root"), (root_elsewhere, "root"), (victim, "victim")):
        visitor.sign_in(name)
        assert visitor.is_signed_in
    stranger = new_visitor()
    stranger.open(RECOVERY)
    stranger.submit(RECOVERY, {"uid_field": "victim"})
    email_token = mailbox.last_link().rsplit("/", 1)[1]
    with app.app_context():
        users = {user.username: user for user in db.session.scalars(select(User))}
        for user in users.values():
            authenticators.replace_recovery_codes(user, 3)
        db.session.commit()
        sessions = {
            name: list(
                db.session.scalars(
                    select(UserSession.id)
                    .where(UserSession.user_id == user.id)
                    .order_by(UserSession.id)
                )
            )
            for name, user in users.items()
        }
        victim_id = users["victim"].id
    values = {
        "slug": ids["flow"],
        "binding_id": ids["binding"],
        "stage_id": ids["stage"],
        "policy_id": ids["policy"],
        "group_id": ids["group"],
        "invitation_id": ids["invitation"],
        "user_id": victim_id,
        "session_id": sessions["victim"][0],
        "kind": "recovery_codes",
        "authenticator_id": 0,
        "type_name": "deny",
        "direction": "down",
        "token": email_token,
    }
    overrides = {
        "admin.edit_policy_binding": {"binding_id": policy_binding_id},
        "admin.delete_policy_binding": {"binding_id": policy_binding_id},
        "account.revoke_session": {"session_id": sessions["root"][1]},
    }
    return root, Scene(values, overrides)


def post_targets(app, scene) -> list[str]:
    """Every POST route, with real ids filled in; the flow route once for every flow."""
    targets = []
    with app.test_request_context():
        flow_slugs = list(db.session.scalars(select(Flow.slug)))
        for rule in app.url_map.iter_rules():
            if "POST" not in rule.methods:
                continue
            values = {**scene.values, **scene.overrides.get(rule.endpoint, {})}
            missing = rule.arguments - values.keys()
            assert not missing, f"{rule.rule}: no test value for {missing}; add one to the scene"
            if rule.endpoint == "flow.execute":
                targets += [url_for(rule.endpoint, slug=slug) for slug in flow_slugs]
            else:
                targets.append(url_for(rule.endpoint, **{k: values[k] for k in rule.arguments}))
    return targets


def test_every_post_route_refuses_a_missing_or_forged_token_and_changes_nothing(
    app, scene, new_visitor
):
    root, scene = scene
    forger = new_visitor()
    forger.open(RECOVERY)
    forged = csrf_token(forger.page)  # a valid token, but of another browser's session
    attempts = {
        "no token": ({}, {}),
        "no token, htmx": ({}, {"HX-Request": "true"}),
        "another session's token": ({"csrf_token": forged}, {}),
    }
    targets = post_targets(app, scene)
    assert len(targets) > 40
    # The stage types' own routes count too: an emailed link is confirmed by a POST.
    assert f"/flow/email/{scene.values['token']}" in targets
    before = table_rows(app)
    refusals = []
    for path in targets:
        for kind, (fields, headers) in attempts.items():
            response = root.http.post(path, data={**fields, "name": "x"}, headers=headers)
            refusals.append((path, kind, response.status_code, "Traceback" in response.text))
    accepted = [item for item in refusals if item[2] not in (400, 403) or item[3]]
    assert accepted == []
    assert table_rows(app) == before
    assert root.is_signed_in
