"""Redirect URIs match exactly; RFC 8252's loopback port relaxation is for native apps (public
clients; on unless turned off) only, and never loosens anything but the port."""

import json
import secrets

import pytest

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


def test_a_native_app_made_from_the_command_line_may_pick_its_port(
    app, runner, live_server, visitor, alice
):
    """RFC 8252 7.3's MUST holds by default: `idp apps create --public` with a loopback
    redirect URI accepts any port."""
    result = runner.invoke(
        args=["apps", "create", "cli", "--name", "CLI", "--oidc", "--public",
              "--redirect-uri", "http://127.0.0.1/callback", "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    client_id = json.loads(result.output)["client_id"]
    chosen = "http://127.0.0.1:49152/callback"
    url = authorize_url(client_id, secrets.token_urlsafe(48), redirect_uri=chosen)
    kind, result = visitor.authorize(url, "alice", stop_at=chosen)
    assert kind == "redirect" and "code" in query_of(result)


def test_turned_off_a_native_app_must_use_its_registered_port(app, visitor, alice):
    client_id, _none = make_client(
        app, slug="cli", public=True, redirect_uris=[NATIVE], allow_any_loopback_port=False
    )
    response = visitor.http.get(
        authorize_url(
            client_id, secrets.token_urlsafe(48), redirect_uri="http://127.0.0.1:51234/callback"
        )
    )
    assert response.status_code == 400 and "location" not in response.headers


def test_a_confidential_client_always_matches_exactly(app, visitor, alice):
    client_id, _secret = make_client(app, redirect_uris=[NATIVE], allow_any_loopback_port=True)
    response = visitor.http.get(
        authorize_url(
            client_id, secrets.token_urlsafe(48), redirect_uri="http://127.0.0.1:51234/callback"
        )
    )
    assert response.status_code == 400 and "location" not in response.headers


def test_a_request_without_a_redirect_uri_gets_a_page(app, visitor, alice):
    """OpenID Connect requires redirect_uri; there is no default to fall back on."""
    client_id, _secret = make_client(app)
    response = visitor.http.get(
        authorize_url(client_id, secrets.token_urlsafe(48), redirect_uri=None)
    )
    assert response.status_code == 400 and "location" not in response.headers
