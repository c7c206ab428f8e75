"""Token revocation as RFC 7009 says: the client authenticates as it does at the token
endpoint, an unknown token is not an error, and a client can revoke only its own tokens."""

import secrets

import httpx
import pytest

from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

REVOKE = "/application/o/revoke/"
USERINFO = "/application/o/userinfo/"


@pytest.fixture
def issued(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    return client_id, secret, token


def works(live_server, token) -> bool:
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    return httpx.get(live_server(USERINFO), headers=headers).status_code == 200


def test_an_unknown_token_is_answered_200(live_server, issued):
    client_id, secret, _token = issued
    answer = httpx.post(live_server(REVOKE), data={"token": "nothing"}, auth=(client_id, secret))
    assert answer.status_code == 200


def test_another_clients_token_is_refused_and_stays_valid(app, live_server, issued):
    _client_id, _secret, token = issued
    other_id, other_secret = make_client(app, slug="other")
    answer = httpx.post(
        live_server(REVOKE), data={"token": token["access_token"]}, auth=(other_id, other_secret)
    )
    assert answer.status_code == 400
    assert works(live_server, token)


def test_a_confidential_client_must_authenticate(live_server, issued):
    client_id, _secret, token = issued
    answer = httpx.post(
        live_server(REVOKE), data={"token": token["access_token"], "client_id": client_id}
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert works(live_server, token)


def test_revoking_the_access_token_with_its_type_hint_ends_it(live_server, issued):
    client_id, secret, token = issued
    answer = httpx.post(
        live_server(REVOKE),
        data={"token": token["access_token"], "token_type_hint": "access_token"},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200
    assert not works(live_server, token)


def test_a_public_client_revokes_with_its_client_id(app, live_server, visitor, alice):
    client_id, _none = make_client(app, slug="spa", public=True)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, None, answer["code"], verifier).json()
    revoked = httpx.post(
        live_server(REVOKE), data={"token": token["refresh_token"], "client_id": client_id}
    )
    assert revoked.status_code == 200
    assert not works(live_server, token)


@pytest.mark.parametrize("hint", ["no_such_type", "id_token", ""])
def test_an_unknown_type_hint_is_ignored_and_the_token_revoked(live_server, issued, hint):
    # RFC 7009 2.1: "An invalid token type hint value is ignored by the authorization server
    # and does not influence the revocation response."
    client_id, secret, token = issued
    answer = httpx.post(
        live_server(REVOKE),
        data={"token": token["access_token"], "token_type_hint": hint},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    assert not works(live_server, token)


def test_an_unknown_type_hint_is_ignored_at_introspection(live_server, issued):
    # RFC 7662 2.1: the server searches every token type it has whatever the hint says.
    client_id, secret, token = issued
    answer = httpx.post(
        live_server("/application/o/introspect/"),
        data={"token": token["refresh_token"], "token_type_hint": "no_such_type"},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["active"] is True
    assert answer.json()["token_type"] == "refresh_token"
