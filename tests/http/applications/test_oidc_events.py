"""Events for every authorization, token issue, refresh, replay, reuse and revocation, metrics
per grant type, and nothing secret in either (a code, a token or a secret never appears)."""

import json
import secrets

import httpx
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event
from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import exchange, get_code
from tests.http.test_metrics import Metrics


def test_each_step_is_an_event_and_a_count_and_nothing_secret_is_kept(
    app, client, live_server, visitor, alice
):
    metrics = Metrics(client)  # the counters are process-wide: the server thread shares them
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    token = exchange(live_server, client_id, secret, code, verifier).json()
    token_url = live_server("/application/o/token/")
    refreshed = httpx.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(client_id, secret),
    ).json()
    httpx.post(  # the old refresh token again: reuse
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(client_id, secret),
    )
    exchange(live_server, client_id, secret, code, verifier)  # the code again: replay
    machine = httpx.post(
        token_url, data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    ).json()
    httpx.post(
        live_server("/application/o/revoke/"),
        data={"token": machine["access_token"]},
        auth=(client_id, secret),
    )

    with app.app_context():
        events = db.session.scalars(select(Event).order_by(Event.id)).all()
    actions = [event.action for event in events]
    for action in ("oauth2_authorized", "oauth2_token_issued", "oauth2_refresh_reuse_detected",
                   "oauth2_code_replayed", "oauth2_token_revoked"):  # fmt: skip
        assert action in actions, actions
    grants = {e.detail.get("grant_type") for e in events if e.action == "oauth2_token_issued"}
    assert grants == {"authorization_code", "refresh_token", "client_credentials"}

    kept = json.dumps([(event.action, event.detail) for event in events])
    for value in (code, verifier, secret, token["access_token"], token["refresh_token"],
                  refreshed["access_token"], refreshed["refresh_token"]):  # fmt: skip
        assert value not in kept

    for grant in ("authorization_code", "refresh_token", "client_credentials"):
        assert metrics.moved("gatehouse_oauth2_tokens_total", grant_type=grant) >= 1
    assert metrics.moved("gatehouse_oauth2_authorizations_total", outcome="code") >= 1
