"""Redirect URIs match exactly; RFC 8252's loopback port relaxation is for native apps (public
clients that asked for it) only, and never loosens anything but the port."""

import secrets

import pytest

from idp.applications.manage import ApplicationError
from tests.http.applications.oidc import make_client, query_of
from tests.http.applications.test_oidc_rules import authorize_url, exchange

NATIVE = "http://127.0.0.1:8400/callback"


def native_client(app, **options):
    return make_client(
        app, slug="cli", public=True, redirect_uris=[NATIVE], allow_any_loopback_port=True,
        **options,
    )  # fmt: skip


def test_a_native_app_may_come_back_on_any_loopback_port(app, live_server, visitor, alice):
    client_id, _none = native_client(app)
    verifier = secrets.token_urlsafe(48)
    chosen = "http://127.0.0.1:51234/callback"
    url = authorize_url(client_id, verifier, redirect_uri=chosen)
    kind, result = visitor.authorize(url, "alice", stop_at=chosen)
    assert kind == "redirect", result.text[:500]
    code = query_of(result)["code"]
    token = exchange(live_server, client_id, None, code, verifier, redirect_uri=chosen)
    assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:51234/elsewhere",  # only the port may differ
        "http://127.0.0.2:8400/callback",  # another loopback address is another host
        "http://localhost:8400/callback",
        "https://127.0.0.1:51234/callback",
        "http://user@127.0.0.1:51234/callback",
        "http://127.0.0.1:51234/callback?x=1",
    ],
)
def test_the_relaxation_loosens_only_the_port(app, visitor, alice, redirect_uri):
    client_id, _none = native_client(app)
    response = visitor.http.get(
        authorize_url(client_id, secrets.token_urlsafe(48), redirect_uri=redirect_uri)
    )
    assert response.status_code == 400 and "location" not in response.headers


def test_without_the_relaxation_a_native_app_must_use_its_registered_port(app, visitor, alice):
    client_id, _none = make_client(app, slug="cli", public=True, redirect_uris=[NATIVE])
    response = visitor.http.get(
        authorize_url(
            client_id, secrets.token_urlsafe(48), redirect_uri="http://127.0.0.1:51234/callback"
        )
    )
    assert response.status_code == 400 and "location" not in response.headers


def test_a_confidential_client_cannot_have_the_relaxation(app):
    with pytest.raises(ApplicationError, match="public client"):
        make_client(app, redirect_uris=[NATIVE], allow_any_loopback_port=True)
