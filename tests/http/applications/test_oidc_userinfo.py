"""userinfo as RFC 6750 and OpenID Connect Core 5.3 say: the token in the Authorization header
or a form body (never the query string), sent once, and the errors in WWW-Authenticate."""

import secrets

import httpx
import pytest

from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

USERINFO = "/application/o/userinfo/"


@pytest.fixture
def access_token(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier, scope="openid profile email")
    response = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_the_header_with_get_or_post_and_the_form_body_all_work(live_server, access_token):
    url = live_server(USERINFO)
    header = {"Authorization": f"Bearer {access_token}"}
    by_get = httpx.get(url, headers=header)
    assert by_get.status_code == 200 and by_get.json()["preferred_username"] == "alice"
    assert httpx.post(url, headers=header).json() == by_get.json()
    assert httpx.post(url, data={"access_token": access_token}).json() == by_get.json()


def test_no_token_is_a_401_without_an_error_code(live_server, access_token):
    answer = httpx.get(live_server(USERINFO))
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"] == "Bearer"


def test_the_query_string_is_never_read(live_server, access_token):
    answer = httpx.get(live_server(USERINFO), params={"access_token": access_token})
    assert answer.status_code == 401


def test_a_token_sent_twice_is_an_invalid_request(live_server, access_token):
    answer = httpx.post(
        live_server(USERINFO),
        headers={"Authorization": f"Bearer {access_token}"},
        data={"access_token": access_token},
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert 'error="invalid_request"' in answer.headers["www-authenticate"]


def test_a_wrong_token_is_an_invalid_token(live_server, access_token):
    answer = httpx.get(live_server(USERINFO), headers={"Authorization": "Bearer nonsense"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]


@pytest.mark.parametrize("path", [USERINFO, "/application/o/token/", "/application/o/revoke/"])
def test_a_browsers_preflight_is_allowed(client, path):
    """A single-page app's fetch with Authorization: Bearer is preceded by a CORS preflight;
    without these headers the browser never reads the answer (tests/browser has the real one)."""
    answer = client.options(
        path,
        headers={
            "Origin": "https://spa.example.test",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "authorization" in answer.headers["Access-Control-Allow-Headers"].lower()
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
