"""CSRF on every POST: each route of the app that accepts POST (flows, the account page, the
admin, the stage types' own routes) is posted to without a valid token, as a signed-in
superuser, against real objects. Every one is refused with a 4xx and changes nothing."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from idp.applications.manage import create_application
from idp.core.extensions import db
from idp.credentials import authenticators
from idp.identity.invitations import create_invitation
from idp.models import (
    Application,
    Consent,
    Flow,
    OAuth2Token,
    Policy,
    PolicyBinding,
    ScopeMapping,
    StageBinding,
    User,
    UserSession,
)
from idp.models.types import utcnow
from tests import factories
from tests.conftest import csrf_token
from tests.database_state import table_rows

RECOVERY = "default-recovery-flow"
APPLICATION = "csrf-app"

# POST routes that take no CSRF token, each with the reason. A browser's session cookie
# authorizes nothing on them: they still refuse the test's posts and change nothing.
NO_CSRF = {
    # OAuth 2.0 token endpoint (RFC 6749 §3.2): the client authenticates with its own
    # credentials, sent by the client's server, never by a browser.
    "provider_oauth2.token": "client credentials (RFC 6749)",
    # Token introspection (RFC 7662 §2.1): the caller authenticates as a client.
    "provider_oauth2.introspect": "client credentials (RFC 7662)",
    # Token revocation (RFC 7009 §2.1): the client authenticates with its credentials.
    "provider_oauth2.revoke": "client credentials (RFC 7009)",
    # UserInfo (OpenID Connect Core §5.3.1, GET and POST): a bearer token (RFC 6750), no cookie.
    "provider_oauth2.userinfo": "bearer access token (RFC 6750)",
    # Authorization endpoint (OpenID Connect Core §3.1.2.1, GET and POST): another site's
    # form posts here; the POST only becomes the same request by GET (303), nothing changes.
    "provider_oauth2.authorize_by_post": "authorization request sent by the RP, made a GET",
    # RP-initiated logout (OpenID Connect RP-Initiated Logout §2, GET and POST): another
    # site's form posts here, so it cannot carry our token; it only sends the browser to the
    # sign-out flow, whose 'Sign out' is itself a POST that needs the token.
    "provider_oauth2.end_session_route": "RP-initiated logout sends to the sign-out flow",
}


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
        create_application(
            APPLICATION,
            "CSRF",
            "oauth2",
            {"client_type": "confidential", "redirect_uris": ["https://rp.example.test/cb"]},
        )
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
        application = db.session.scalar(select(Application).where(Application.slug == APPLICATION))
        now = utcnow()
        token = OAuth2Token(
            application_id=application.id,
            user_id=victim_id,
            family="csrf-family",
            grant_type="authorization_code",
            scope="openid",
            access_token_hash="0" * 64,
            access_expires_at=now + timedelta(hours=1),
        )
        consent = Consent(
            user_id=users["root"].id,
            subject="root",
            application_id=application.id,
            scopes=["openid"],
        )
        mapping = ScopeMapping(name="csrf-scope", expression='{"csrf": True}')
        db.session.add_all([token, consent, mapping])
        db.session.commit()
        token_id, consent_id, mapping_id = token.id, consent.id, mapping.id
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
        "token_id": token_id,
        "consent_id": consent_id,
        "mapping_id": mapping_id,
    }
    overrides = {
        "admin.flow_bindings.edit_policy_binding": {"binding_id": policy_binding_id},
        "admin.flow_bindings.delete_policy_binding": {"binding_id": policy_binding_id},
        "account.revoke_session": {"session_id": sessions["root"][1]},
    }
    # An application's routes take the application's slug, not a flow's.
    application_slug = {"slug": APPLICATION}
    for endpoint in (
        "admin.application_bindings.delete_application_binding",
        "admin.application_bindings.edit_application_binding",
        "admin.application_bindings.new_application_binding",
        "admin.applications.delete_application_route",
        "admin.applications.edit_application",
        "admin.application_tokens.rotate_application_secret",
        "admin.application_tokens.revoke_application_token",
        "provider_oauth2.end_session_route",
    ):
        overrides[endpoint] = application_slug
    return root, Scene(values, overrides)


def post_targets(app, scene) -> list[tuple[str, str]]:
    """Every POST route as (endpoint, path), with real ids filled in; the flow route once for
    every flow."""
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
                targets += [(rule.endpoint, url_for(rule.endpoint, slug=s)) for s in flow_slugs]
            else:
                arguments = {k: values[k] for k in rule.arguments}
                targets.append((rule.endpoint, url_for(rule.endpoint, **arguments)))
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
    endpoints = {endpoint for endpoint, _ in targets}
    assert NO_CSRF.keys() <= endpoints, "NO_CSRF names a route that no longer exists"
    checked = [path for endpoint, path in targets if endpoint not in NO_CSRF]
    exempt = [path for endpoint, path in targets if endpoint in NO_CSRF]
    assert len(checked) > 40
    # The stage types' own routes count too: an emailed link is confirmed by a POST.
    assert f"/flow/email/{scene.values['token']}" in checked
    before = table_rows(app)
    refusals = []
    for path in checked:
        for kind, (fields, headers) in attempts.items():
            response = root.http.post(path, data={**fields, "name": "x"}, headers=headers)
            refusals.append((path, kind, response.status_code, "Traceback" in response.text))
    accepted = [item for item in refusals if item[2] not in (400, 403) or item[3]]
    assert accepted == []
    # The routes without CSRF do nothing for a signed-in browser's cookie alone: the OAuth
    # endpoints want a client's credentials or a bearer token; the sign-out one only sends
    # the browser to the sign-out flow's page, which asks for a click (a POST with a token).
    answers = {}
    for path in exempt:
        for kind, (fields, headers) in attempts.items():
            response = root.http.post(path, data={**fields, "name": "x"}, headers=headers)
            answers[(path, kind)] = (
                response.status_code,
                response.headers.get("Location"),
                "Traceback" in response.text,
            )
    sign_out = f"/application/o/{APPLICATION}/end-session/"
    for (path, _kind), (status, location, traceback) in answers.items():
        assert not traceback, path
        if path == sign_out:
            assert (status, location) == (302, "/flow/default-invalidation-flow/"), path
        else:
            assert status in (400, 401), (path, status)
    assert table_rows(app) == before
    assert root.is_signed_in
