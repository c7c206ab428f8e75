"""OpenID Connect end to end: authlib's own OAuth2 client against a live Gatehouse, a visitor
without JavaScript signing in and consenting in between."""

import secrets

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from tests.factories import make_group, make_user
from tests.http.applications.oidc import REDIRECT_URI, Browser, make_client, query_of

SCOPES = "openid profile email offline_access"


@pytest.fixture
def alice(app):
    with app.app_context():
        staff = make_group("staff")
        user = make_user("alice", groups=[staff])
        user.name = "Alice Liddell"
        from idp.core.extensions import db

        db.session.commit()
        return user.username


@pytest.fixture
def visitor(live_server):
    visitor = Browser(live_server.url)
    yield visitor
    visitor.close()


def discover(live_server, slug="rp") -> dict:
    issuer = live_server(f"/application/o/{slug}/")
    document = httpx.get(f"{issuer}.well-known/openid-configuration").json()
    assert document["issuer"] == issuer
    return document


def client_for(client_id, secret, **kwargs):
    return OAuth2Client(
        client_id,
        secret,
        scope=kwargs.pop("scope", SCOPES),
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method=kwargs.pop(
            "auth_method", "client_secret_basic" if secret else "none"
        ),
        **kwargs,
    )


def sign_in_and_get_code(visitor, oauth, document, username="alice", **params):
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(12)
    url, state = oauth.create_authorization_url(
        document["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **params
    )
    kind, result = visitor.authorize(url, username)
    assert kind == "redirect", result.text[:2000]
    return result, state, verifier, nonce


def verify_id_token(document, id_token, client_id, nonce):
    key_set = KeySet.import_key_set(httpx.get(document["jwks_uri"]).json())
    token = jwt.decode(id_token, key_set, algorithms=["ES256", "RS256"])
    JWTClaimsRegistry(
        iss={"essential": True, "value": document["issuer"]},
        aud={"essential": True, "value": client_id},
        nonce={"essential": True, "value": nonce},
        sub={"essential": True},
        exp={"essential": True},
    ).validate(token.claims)
    return token


def test_code_flow_with_pkce_consent_id_token_userinfo_and_refresh(
    app, live_server, visitor, alice
):
    client_id, secret = make_client(app)
    document = discover(live_server)
    assert document["code_challenge_methods_supported"] == ["S256"]
    oauth = client_for(client_id, secret)
    redirect, state, verifier, nonce = sign_in_and_get_code(visitor, oauth, document)
    answer = query_of(redirect)
    assert answer["state"] == state
    assert answer["iss"] == document["issuer"]  # RFC 9207
    token = oauth.fetch_token(
        document["token_endpoint"], authorization_response=redirect, code_verifier=verifier
    )
    assert "refresh_token" in token  # offline_access was asked for
    id_token = verify_id_token(document, token["id_token"], client_id, nonce)
    assert id_token.header["alg"] == "ES256"
    assert id_token.claims["preferred_username"] == "alice"
    assert id_token.claims["groups"] == ["staff"]

    headers = {"Authorization": f"Bearer {token['access_token']}"}
    info = httpx.get(document["userinfo_endpoint"], headers=headers).json()
    assert info["sub"] == id_token.claims["sub"]
    assert info["email"] == "alice@example.test" and info["groups"] == ["staff"]
    by_form = httpx.post(
        document["userinfo_endpoint"], data={"access_token": token["access_token"]}
    )
    assert by_form.status_code == 200 and by_form.json()["sub"] == info["sub"]

    refreshed = oauth.refresh_token(
        document["token_endpoint"], refresh_token=token["refresh_token"]
    )
    assert refreshed["refresh_token"] != token["refresh_token"]
    assert (
        httpx.get(
            document["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {refreshed['access_token']}"},
        ).status_code
        == 200
    )

    # The consent is remembered: a second authorization goes straight back.
    pages_seen = len(visitor.pages)
    second, _state, _verifier, _nonce = sign_in_and_get_code(visitor, oauth, document)
    assert "code" in query_of(second)
    assert len(visitor.pages) == pages_seen
