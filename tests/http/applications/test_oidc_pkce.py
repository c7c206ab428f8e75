"""PKCE edges (RFC 7636, RFC 9700 4.8): no downgrade either way, S256 named explicitly."""

import secrets

import pytest

from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import authorize_url, exchange, get_code


def test_a_verifier_without_a_challenge_is_refused(app, live_server, visitor, alice):
    """RFC 9700 4.8: a code issued without code_challenge cannot be exchanged with a verifier
    (an attacker's injected code would otherwise pass as PKCE-protected)."""
    client_id, secret = make_client(app, require_pkce=False)
    code = get_code(visitor, client_id)["code"]
    answer = exchange(live_server, client_id, secret, code, secrets.token_urlsafe(48))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "extra",
    [
        {"code_challenge_method": None},  # a challenge must say S256
        {"code_challenge_method": "plain"},
        {"code_challenge_method": "S512"},
        {"code_challenge": "short"},  # not 43 to 128 characters
    ],
)
def test_a_challenge_that_is_not_plainly_s256_is_refused(app, visitor, alice, extra):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), **extra)
    kind, result = visitor.authorize(url, "alice")
    assert kind == "redirect"
    assert "error=invalid_request" in result and "code=" not in result


def test_the_public_client_must_send_the_verifier(app, live_server, visitor, alice):
    client_id, _none = make_client(app, slug="spa", public=True)
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    missing = exchange(live_server, client_id, None, code)
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("verifier", "accepted"),
    [
        ("a" * 42, False),  # RFC 7636 4.1: 43 to 128 characters
        ("a" * 43, True),
        ("a" * 128, True),
        ("a" * 129, False),
        ("a" * 42 + "+", False),  # of the unreserved set A-Z a-z 0-9 - . _ ~ only
        ("a" * 42 + "/", False),
        ("-._~" * 11, True),
    ],
)
def test_the_verifier_must_be_43_to_128_unreserved_characters(
    app, live_server, visitor, alice, verifier, accepted
):
    """A challenge made from a verifier of the wrong shape is itself well-formed (S256 is
    always 43 characters), so the verifier's own shape is checked at the token endpoint."""
    client_id, secret = make_client(app)
    code = get_code(visitor, client_id, verifier)["code"]
    answer = exchange(live_server, client_id, secret, code, verifier)
    if accepted:
        assert answer.status_code == 200, answer.text
    else:
        assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
