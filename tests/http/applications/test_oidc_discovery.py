"""The discovery document (OpenID Connect Discovery 1.0, RFC 8414, RFC 9207, RP-initiated and
back-channel logout) in DESIGN.md's URL layout: what a relying party reads before anything."""

import secrets

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import exchange, get_code


def test_the_document_lists_the_endpoints_in_authentiks_layout(app, live_server):
    make_client(app)
    base = live_server.url
    issuer = f"{base}/application/o/rp/"
    document = httpx.get(f"{issuer}.well-known/openid-configuration").json()
    assert document["issuer"] == issuer
    assert document["authorization_endpoint"] == f"{base}/application/o/authorize/"
    assert document["token_endpoint"] == f"{base}/application/o/token/"
    assert document["userinfo_endpoint"] == f"{base}/application/o/userinfo/"
    assert document["introspection_endpoint"] == f"{base}/application/o/introspect/"
    assert document["revocation_endpoint"] == f"{base}/application/o/revoke/"
    assert document["jwks_uri"] == f"{issuer}jwks/"
    assert document["end_session_endpoint"] == f"{issuer}end-session/"
    for endpoint in ("jwks_uri", "end_session_endpoint"):
        assert httpx.get(document[endpoint]).status_code in (200, 302)


def test_the_document_says_what_gatehouse_does_and_does_not_do(app, live_server):
    make_client(app)
    document = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration")).json()
    assert document["response_types_supported"] == ["code"]  # no implicit, no hybrid
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["backchannel_logout_supported"] is True
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    assert set(document["scopes_supported"]) >= {"openid", "profile", "email", "offline_access"}
    assert set(document["claims_supported"]) >= {
        "sub", "iss", "auth_time", "name", "preferred_username", "groups", "email",
        "email_verified",
    }  # fmt: skip
    assert set(document["prompt_values_supported"]) == {"none", "login", "consent"}
    assert set(document["grant_types_supported"]) == {
        "authorization_code", "refresh_token", "client_credentials",
    }  # fmt: skip
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "none",
    }  # fmt: skip
    # What is not supported is said so (request_uri_parameter_supported defaults to true).
    assert document["request_uri_parameter_supported"] is False
    assert document["request_parameter_supported"] is False
    assert document["claims_parameter_supported"] is False


def test_an_rs256_application_says_rs256(app, live_server):
    make_client(app, slug="old", signing_algorithm="RS256")
    document = httpx.get(live_server("/application/o/old/.well-known/openid-configuration")).json()
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    assert document["issuer"].endswith("/application/o/old/")


def test_an_unknown_application_has_no_document(app, live_server):
    answer = httpx.get(live_server("/application/o/nothing/.well-known/openid-configuration"))
    assert answer.status_code == 404


def test_every_advertised_scope_claim_and_method_works(app, live_server, visitor, alice):
    """What the document advertises is what the endpoints do: all its scopes are granted
    together, every claim the ID token and userinfo carry is listed, the ID token is signed
    with the advertised algorithm, and the secret-in-the-body method works at every
    endpoint that lists it."""
    client_id, secret = make_client(app)
    document = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration")).json()
    verifier = secrets.token_urlsafe(48)
    scope = " ".join(document["scopes_supported"])
    code = get_code(visitor, client_id, verifier, scope=scope)["code"]
    posted = {"client_id": client_id, "client_secret": secret}
    token = httpx.post(
        document["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
              "code_verifier": verifier, **posted},
    ).json()  # fmt: skip
    assert set(token["scope"].split()) == set(document["scopes_supported"])
    key_set = KeySet.import_key_set(httpx.get(document["jwks_uri"]).json())
    id_token = jwt.decode(
        token["id_token"], key_set, algorithms=document["id_token_signing_alg_values_supported"]
    )
    claims = id_token.claims
    userinfo = httpx.get(
        document["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
    ).json()
    assert set(claims) <= set(document["claims_supported"]), set(claims)
    assert set(userinfo) <= set(document["claims_supported"]), set(userinfo)
    introspected = httpx.post(
        document["introspection_endpoint"], data={"token": token["access_token"], **posted}
    ).json()
    assert introspected["active"] is True
    refreshed = httpx.post(
        document["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"], **posted},
    )
    assert refreshed.status_code == 200, refreshed.text
    service = httpx.post(
        document["token_endpoint"], data={"grant_type": "client_credentials", **posted}
    )
    assert service.status_code == 200, service.text
    revoked = httpx.post(
        document["revocation_endpoint"],
        data={"token": refreshed.json()["access_token"], **posted},
    )
    assert revoked.status_code == 200
    assert not httpx.post(
        document["introspection_endpoint"],
        data={"token": refreshed.json()["access_token"], **posted},
    ).json()["active"]


def test_a_scope_that_is_not_advertised_is_not_granted(app, live_server, visitor, alice):
    client_id, secret = make_client(app, allowed_scopes=["openid", "email"])
    document = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration")).json()
    assert set(document["scopes_supported"]) == {"openid", "email"}
    verifier = secrets.token_urlsafe(48)
    code = get_code(
        visitor, client_id, verifier, scope="openid email profile phone offline_access"
    )["code"]
    token = exchange(live_server, client_id, secret, code, verifier).json()
    assert set(token["scope"].split()) == {"openid", "email"}
    assert "refresh_token" not in token
