"""OpenID Connect Core on what the ID token and userinfo say: at_hash binds the ID token to
its access token (3.1.3.6), each scope gives its claims and no others (5.4), sub is the
same user's every time and another user's never (2, 5.7), and the hybrid and implicit
response types that would need c_hash are refused (3.3, 3.2: only code is offered)."""

import base64
import hashlib
import secrets

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.factories import make_user
from tests.http.applications.oidc import Browser, make_client, query_of
from tests.http.applications.test_oidc_rules import authorize_url, exchange, get_code

USERINFO = "/application/o/userinfo/"
PROFILE = {"name", "preferred_username", "nickname", "groups"}
EMAIL = {"email", "email_verified"}


def tokens_for(app, live_server, visitor, client, scope, username="alice", **extra):
    client_id, secret = client
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier, username=username, scope=scope, **extra)
    answer = exchange(live_server, client_id, secret, code["code"], verifier)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    key_set = KeySet.import_key_set(httpx.get(live_server("/application/o/rp/jwks/")).json())
    claims = jwt.decode(token["id_token"], key_set, algorithms=["ES256"]).claims
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    userinfo = httpx.get(live_server(USERINFO), headers=headers).json()
    return token, claims, userinfo


def test_at_hash_is_the_left_half_of_the_access_tokens_sha256(app, live_server, visitor, alice):
    client = make_client(app)
    token, claims, _userinfo = tokens_for(app, live_server, visitor, client, "openid")
    digest = hashlib.sha256(token["access_token"].encode("ascii")).digest()
    expected = base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert claims["at_hash"] == expected
    assert "c_hash" not in claims  # a code flow's ID token comes from the token endpoint


@pytest.mark.parametrize(
    ("scope", "present", "absent"),
    [
        ("openid", set(), PROFILE | EMAIL),
        ("openid email", EMAIL, PROFILE),
        ("openid profile", PROFILE - {"name", "nickname"}, EMAIL),
    ],
)
def test_each_scope_gives_its_claims_and_no_others(
    app, live_server, visitor, alice, scope, present, absent
):
    client = make_client(app)
    _token, claims, userinfo = tokens_for(app, live_server, visitor, client, scope)
    for found in (claims, userinfo):
        assert present <= set(found), (scope, found)
        assert not absent & set(found), (scope, found)
        assert found["sub"] == claims["sub"]


def test_sub_is_stable_for_a_user_and_differs_between_users(app, live_server, visitor, alice):
    client = make_client(app)
    with app.app_context():
        make_user("bob")
    _token, first, _info = tokens_for(app, live_server, visitor, client, "openid")
    # A fresh sign-in (prompt=login) is a new session: the same sub all the same.
    _token, again, info = tokens_for(app, live_server, visitor, client, "openid", prompt="login")
    assert again["sub"] == first["sub"] == info["sub"]
    assert again["sid"] != first["sid"]
    other = Browser(live_server.url)
    try:
        _token, bobs, _info = tokens_for(app, live_server, other, client, "openid", "bob")
    finally:
        other.close()
    assert bobs["sub"] != first["sub"]


@pytest.mark.parametrize(
    "response_type",
    ["id_token", "id_token token", "code id_token", "code token", "code id_token token"],
)
def test_implicit_and_hybrid_response_types_are_refused(app, visitor, alice, response_type):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_type=response_type)
    kind, result = visitor.follow(url)
    assert kind == "redirect"
    answer = query_of(result)
    assert answer["error"] == "unsupported_response_type" and answer["state"] == "s1"
    assert "code" not in answer and "#" not in result
