"""client_credentials: a machine client is checked against the application's bindings as a
service identity (in no group, no user), and refused the way RFC 6749 5.2 says."""

import httpx
import pytest
from sqlalchemy import select

from idp.applications.loading import load_application
from idp.applications.manage import bind
from idp.core.extensions import db
from idp.models import Event, Policy
from tests.factories import make_group
from tests.http.applications.oidc import bind_group, make_client


def client_credentials(live_server, client_id, secret, **extra):
    return httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "client_credentials", **extra},
        auth=(client_id, secret),
    )


def bind_policy(app, expression):
    with app.app_context():
        policy = Policy(name="service-rule", type="expression", options={"expression": expression})
        db.session.add(policy)
        db.session.flush()
        bind(load_application("rp"), policy=policy)
        db.session.commit()


def test_a_client_the_bindings_refuse_is_an_unauthorized_client(app, live_server):
    client_id, secret = make_client(app)
    with app.app_context():
        make_group("staff")
    bind_group(app, "rp", "staff")  # people only: the service is in no group
    refused = client_credentials(live_server, client_id, secret)
    assert refused.status_code == 400
    assert refused.json()["error"] == "unauthorized_client"
    assert "access_token" not in refused.json()
    with app.app_context():
        actions = db.session.scalars(select(Event.action)).all()
        assert "oauth2_access_denied" in actions


@pytest.mark.parametrize(
    ("expression", "allowed"),
    [("user.username == 'client:rp'", True), ("user.username == 'client:other'", False)],
)
def test_a_policy_may_let_the_service_identity_in(app, live_server, expression, allowed):
    client_id, secret = make_client(app)
    bind_policy(app, expression)
    answer = client_credentials(live_server, client_id, secret)
    assert (answer.status_code == 200) is allowed, answer.text
    if allowed:
        assert "refresh_token" not in answer.json()


def test_a_public_client_may_not_use_client_credentials(app, live_server):
    client_id, _none = make_client(app, slug="spa", public=True)
    answer = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "client_credentials", "client_id": client_id},
    )
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] in ("unauthorized_client", "invalid_client")
