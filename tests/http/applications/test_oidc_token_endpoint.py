"""RFC 6749 at the token, revocation and introspection endpoints: a parameter is sent at most
once (3.1, 3.2), a client that fails to authenticate gets a 401 with WWW-Authenticate
(5.2), and no answer, error or not, may be cached (5.1, 5.2)."""

import secrets

import httpx
import pytest

from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

TOKEN = "/application/o/token/"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def code_for(app, visitor, **options):
    client_id, secret = make_client(app, **options)
    verifier = secrets.token_urlsafe(48)
    return client_id, secret, verifier, get_code(visitor, client_id, verifier)["code"]


@pytest.mark.parametrize(
    "extra", ["&code=another", "&grant_type=authorization_code", "&code_verifier=x" + "y" * 50]
)
def test_a_repeated_parameter_at_the_token_endpoint_is_an_invalid_request(
    app, live_server, visitor, alice, extra
):
    client_id, secret, verifier, code = code_for(app, visitor)
    body = (
        f"grant_type=authorization_code&code={code}&redirect_uri={REDIRECT_URI}"
        f"&code_verifier={verifier}{extra}"
    )
    answer = httpx.post(live_server(TOKEN), content=body, headers=FORM, auth=(client_id, secret))
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_request"
    assert answer.headers["Cache-Control"] == "no-store"
    # Nothing was issued, and the code is still unspent.
    assert exchange(live_server, client_id, secret, code, verifier).status_code == 200


@pytest.mark.parametrize("path", ["/application/o/revoke/", "/application/o/introspect/"])
def test_a_repeated_token_at_revocation_and_introspection_is_an_invalid_request(
    app, live_server, visitor, alice, path
):
    client_id, secret, verifier, code = code_for(app, visitor)
    token = exchange(live_server, client_id, secret, code, verifier).json()
    body = f"token={token['access_token']}&token=unknown"
    answer = httpx.post(live_server(path), content=body, headers=FORM, auth=(client_id, secret))
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(live_server("/application/o/userinfo/"), headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("path", "form"),
    [
        (TOKEN, {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT_URI}),
        ("/application/o/revoke/", {"token": "x"}),
        ("/application/o/introspect/", {"token": "x"}),
    ],
)
def test_a_wrong_basic_secret_is_a_401_with_a_basic_challenge(app, live_server, path, form):
    client_id, _secret = make_client(app)
    answer = httpx.post(live_server(path), data=form, auth=(client_id, "wrong"))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"


def test_a_public_client_cannot_introspect_it_is_not_advertised(app, live_server, visitor, alice):
    """Discovery lists only the secret methods for introspection: a client_id alone is 401."""
    client_id, _none = make_client(app, slug="spa", public=True)
    answer = httpx.post(
        live_server("/application/o/introspect/"), data={"token": "x", "client_id": client_id}
    )
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT_URI},
         "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
        ({"grant_type": "password", "username": "alice", "password": "x"},
         "unsupported_grant_type"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": "x"},
         "unsupported_grant_type"),
    ],
)  # fmt: skip
def test_token_errors_are_never_cached(app, live_server, form, error):
    client_id, secret = make_client(app)
    answer = httpx.post(live_server(TOKEN), data=form, auth=(client_id, secret))
    assert answer.status_code == 400 and answer.json()["error"] == error
    assert answer.headers["Cache-Control"] == "no-store"
    assert answer.headers["Pragma"] == "no-cache"


def refresh(live_server, client, value, **extra):
    return httpx.post(
        live_server(TOKEN),
        data={"grant_type": "refresh_token", "refresh_token": value, **extra},
        auth=client,
    )


def test_refresh_may_narrow_the_scope_never_widen_it(app, live_server, visitor, alice):
    """RFC 6749 6: a scope beyond what was granted is invalid_scope; a narrower one is
    granted and stays the family's scope."""
    client_id, secret, verifier, code = code_for(app, visitor)
    token = exchange(live_server, client_id, secret, code, verifier).json()
    client = (client_id, secret)
    wider = refresh(
        live_server, client, token["refresh_token"], scope="openid email offline_access"
    )
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrower = refresh(live_server, client, token["refresh_token"], scope="openid offline_access")
    assert narrower.status_code == 200 and narrower.json()["scope"] == "openid offline_access"
    later = refresh(live_server, client, narrower.json()["refresh_token"])
    assert later.json()["scope"] == "openid offline_access"


def test_another_clients_refresh_token_is_invalid_grant_and_stays_good(
    app, live_server, visitor, alice
):
    client_id, secret, verifier, code = code_for(app, visitor)
    other = make_client(app, slug="other")
    token = exchange(live_server, client_id, secret, code, verifier).json()
    stolen = refresh(live_server, other, token["refresh_token"])
    assert stolen.status_code == 400 and stolen.json()["error"] == "invalid_grant"
    assert refresh(live_server, (client_id, secret), token["refresh_token"]).status_code == 200


def test_revoking_a_refresh_token_ends_its_access_tokens_too(app, live_server, visitor, alice):
    """RFC 7009 2.1: revoking a refresh token should invalidate the access tokens it gave."""
    client_id, secret, verifier, code = code_for(app, visitor)
    token = exchange(live_server, client_id, secret, code, verifier).json()
    renewed = refresh(live_server, (client_id, secret), token["refresh_token"]).json()
    answer = httpx.post(
        live_server("/application/o/revoke/"),
        data={"token": renewed["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200
    for access in (token["access_token"], renewed["access_token"]):
        headers = {"Authorization": f"Bearer {access}"}
        assert (
            httpx.get(live_server("/application/o/userinfo/"), headers=headers).status_code == 401
        )
    assert refresh(live_server, (client_id, secret), renewed["refresh_token"]).status_code == 400
