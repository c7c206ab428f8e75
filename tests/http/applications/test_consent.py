"""The consent stage in an authorization flow: it lists what the application receives,
remembers the answer per user and application, and asks again when the scopes grow."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Application, AuthorizationRequest, Consent, Flow, Provider
from idp.models.types import utcnow
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user

FLOW = "default-provider-authorization-explicit-consent"


def wiki_with_a_request(app) -> tuple[int, int, str]:
    """An application whose authorization flow asks for consent, and a user with an
    authorization request for it: (application id, user id, username)."""
    with app.app_context():
        flow_id = db.session.scalar(select(Flow.id).where(Flow.slug == FLOW))
        application = Application(slug="wiki", name="The Wiki", policy_bindings=[])
        application.provider = Provider(type="oauth2", options={}, authorization_flow_id=flow_id)
        db.session.add(application)
        user = make_user()
        db.session.flush()
        request = AuthorizationRequest(
            handle="h1",
            application_id=application.id,
            user_id=user.id,
            expires_at=utcnow() + timedelta(minutes=5),
        )
        db.session.add(request)
        db.session.commit()
        return application.id, user.id, user.username


@pytest.fixture
def setup(app, flows):
    ids = wiki_with_a_request(app)
    flows.sign_in(ids[2], PASSWORD)
    return ids


def seed(client, application_id, scopes, **extra):
    application = {
        "id": application_id,
        "name": "The Wiki",
        "scopes": scopes,
        "permissions": [f"permission {scope}" for scope in scopes],
        "request": "h1",
        **extra,
    }
    with client.session_transaction() as session:
        session["flow_seeds"] = {FLOW: {"context": {"application": application}, "next": "/done"}}


def agree(client):
    page = client.get(f"/flow/{FLOW}/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    response = client.post(f"/flow/{FLOW}/", data={"csrf_token": csrf_token(html)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/done"
    return html


def test_consent_lists_what_the_app_receives_and_is_remembered(app, client, setup):
    application_id, user_id, _name = setup
    seed(client, application_id, ["openid", "email"])
    html = agree(client)
    assert "The Wiki" in html and "permission email" in html
    with app.app_context():
        consent = db.session.scalar(select(Consent).where(Consent.user_id == user_id))
        assert consent.application_id == application_id
        assert consent.scopes == ["email", "openid"]
        request = db.session.scalar(select(AuthorizationRequest))
        assert request.flow_completed_at is not None
    # The same scopes again: nothing to ask, the flow goes straight on.
    seed(client, application_id, ["openid"])
    response = client.get(f"/flow/{FLOW}/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/done"


def test_more_scopes_or_prompt_consent_ask_again(app, client, setup):
    application_id, user_id, _name = setup
    seed(client, application_id, ["openid"])
    agree(client)
    seed(client, application_id, ["openid", "profile"])
    html = agree(client)
    assert "permission profile" in html
    with app.app_context():
        consent = db.session.scalar(select(Consent).where(Consent.user_id == user_id))
        assert consent.scopes == ["openid", "profile"]
    seed(client, application_id, ["openid"], ask_again=True)
    response = client.get(f"/flow/{FLOW}/")
    assert response.status_code == 200, response.headers.get("Location")


def test_an_expired_consent_asks_again(app, client, flows, setup, time_machine):
    application_id, _user_id, name = setup
    seed(client, application_id, ["openid"])
    agree(client)
    time_machine.move_to(utcnow() + timedelta(weeks=5))
    flows.sign_in(name, PASSWORD)  # the session has lapsed too
    seed(client, application_id, ["openid"])
    page = client.get(f"/flow/{FLOW}/")
    assert page.status_code == 200
    assert "permission openid" in page.get_data(as_text=True)
