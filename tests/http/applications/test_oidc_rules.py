"""Each rule of the OpenID Connect provider, refused the way the specifications say."""

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import OAuth2Token
from idp.models.types import utcnow
from tests.factories import make_group
from tests.http.applications.oidc import REDIRECT_URI, bind_group, make_client, query_of

AUTHORIZE = "/application/o/authorize/"


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(client_id, verifier=None, **extra):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile offline_access",
        "state": "s1",
    }
    if verifier:
        params.update(code_challenge=challenge_of(verifier), code_challenge_method="S256")
    params.update(extra)
    return f"{AUTHORIZE}?{urlencode({k: v for k, v in params.items() if v is not None})}"


def get_code(visitor, client_id, verifier=None, username="alice", **extra):
    kind, result = visitor.authorize(authorize_url(client_id, verifier, **extra), username)
    assert kind == "redirect", result.text[:1500]
    return query_of(result)


def exchange(live_server, client_id, secret, code, verifier=None, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    if verifier:
        data["code_verifier"] = verifier
    data.update(extra)
    auth = (client_id, secret) if secret else None
    if not secret:
        data["client_id"] = client_id
    return httpx.post(live_server("/application/o/token/"), data=data, auth=auth)


def test_confidential_client_without_pkce_is_refused_at_the_client(app, visitor, alice):
    client_id, _secret = make_client(app)
    answer = get_code(visitor, client_id, verifier=None)
    assert answer["error"] == "invalid_request" and "PKCE" in answer["error_description"]
    assert answer["state"] == "s1" and answer["iss"].endswith("/application/o/rp/")


def test_plain_pkce_is_refused(app, visitor, alice):
    client_id, _secret = make_client(app)
    answer = get_code(visitor, client_id, code_challenge="x" * 43, code_challenge_method="plain")
    assert answer["error"] == "invalid_request"


def test_public_client_needs_pkce_even_when_relaxed_is_not_possible(app):
    with pytest.raises(Exception, match="public client must use PKCE"):
        make_client(app, slug="pub", public=True, require_pkce=False)


def test_a_confidential_client_may_be_let_off_pkce(app, live_server, visitor, alice):
    client_id, secret = make_client(app, require_pkce=False)
    answer = get_code(visitor, client_id)
    token = exchange(live_server, client_id, secret, answer["code"])
    assert token.status_code == 200, token.text


def test_wrong_or_missing_verifier_is_invalid(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    wrong = exchange(live_server, client_id, secret, answer["code"], secrets.token_urlsafe(48))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    answer = get_code(visitor, client_id, verifier)
    missing = exchange(live_server, client_id, secret, answer["code"])
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"


def test_public_client_exchanges_with_pkce_and_no_secret(app, live_server, visitor, alice):
    client_id, secret = make_client(app, slug="spa", public=True)
    assert secret is None
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, None, answer["code"], verifier)
    assert token.status_code == 200, token.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.test/callback",
        REDIRECT_URI + "/more",
        REDIRECT_URI + "?x=1",
        "https://RP.example.test/callback",
    ],
)
def test_an_unknown_redirect_uri_gets_a_page_never_a_redirect(app, visitor, alice, redirect_uri):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), redirect_uri=redirect_uri)
    response = visitor.http.get(url)
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "cannot be answered" in response.text


def test_an_unknown_client_gets_a_page(app, visitor):
    response = visitor.http.get(authorize_url("nobody", secrets.token_urlsafe(48)))
    assert response.status_code == 400 and "location" not in response.headers


def test_a_replayed_code_is_refused_and_revokes_what_it_issued(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    first = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert first.status_code == 200
    again = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    userinfo = httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {first.json()['access_token']}"},
    )
    assert userinfo.status_code == 401
    refresh = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]},
        auth=(client_id, secret),
    )
    assert refresh.status_code == 400


def test_an_expired_code_is_refused(app, live_server, visitor, alice, time_machine):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    time_machine.move_to(utcnow() + timedelta(seconds=61))
    late = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_refresh_reuse_revokes_the_whole_family(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    first = exchange(live_server, client_id, secret, answer["code"], verifier).json()

    def refresh(value):
        return httpx.post(
            live_server("/application/o/token/"),
            data={"grant_type": "refresh_token", "refresh_token": value},
            auth=(client_id, secret),
        )

    second = refresh(first["refresh_token"])
    assert second.status_code == 200
    reused = refresh(first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # The thief's use ended the family: the rightful newest token is dead too.
    assert refresh(second.json()["refresh_token"]).status_code == 400
    with app.app_context():
        rows = db.session.scalars(select(OAuth2Token)).all()
        assert rows and all(row.revoked_at is not None for row in rows)


def test_no_refresh_token_without_offline_access(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier, scope="openid profile")
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    assert "access_token" in token and "refresh_token" not in token


def test_a_user_refused_by_the_bindings_sees_a_page_and_the_client_may_hear(app, visitor, alice):
    client_id, _secret = make_client(app)
    with app.app_context():
        make_group("staff")
    bind_group(app, "rp", "staff")
    kind, result = visitor.authorize(authorize_url(client_id, secrets.token_urlsafe(48)), "alice")
    assert kind == "page" and result.status_code == 403
    assert "You may not use RP" in result.text
    assert "error=access_denied" in result.text and "state=s1" in result.text


@pytest.mark.parametrize(
    "response_type, error",
    [(None, "invalid_request"), ("", "invalid_request"), ("token", "unsupported_response_type")],
)
def test_a_missing_response_type_is_invalid_request(app, visitor, response_type, error):
    """RFC 6749 4.1.2.1: missing is invalid_request, another than code is unsupported; both
    go back to the registered redirect URI, with the state and the issuer."""
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_type=response_type)
    kind, result = visitor.follow(url)
    assert kind == "redirect"
    answer = query_of(result)
    assert answer["error"] == error and answer["state"] == "s1" and answer["iss"]


def test_prompt_none_without_a_session_answers_login_required(app, visitor):
    client_id, _secret = make_client(app)
    kind, result = visitor.follow(
        authorize_url(client_id, secrets.token_urlsafe(48), prompt="none")
    )
    assert kind == "redirect"
    assert query_of(result)["error"] == "login_required"


def test_prompt_none_before_consent_answers_consent_required(app, visitor, alice):
    client_id, _secret = make_client(app)
    visitor.authorize(authorize_url(client_id, secrets.token_urlsafe(48)), "alice", consent=False)
    kind, result = visitor.follow(
        authorize_url(client_id, secrets.token_urlsafe(48), prompt="none")
    )
    assert kind == "redirect" and query_of(result)["error"] == "consent_required"


def test_prompt_login_asks_to_sign_in_again(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    kind, result = visitor.follow(
        authorize_url(client_id, secrets.token_urlsafe(48), prompt="login")
    )
    assert kind == "page" and 'name="uid_field"' in result.text


@pytest.mark.parametrize("extra", [{"prompt": "login"}, {"max_age": "0"}])
def test_a_forced_sign_in_from_another_site_signs_nobody_out(app, visitor, alice, extra):
    """Any site can send the browser to the authorize URL (a GET): asking for a fresh sign-in
    shows the sign-in page, and the session the visitor had is still there if they leave."""
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    kind, result = visitor.follow(authorize_url(client_id, secrets.token_urlsafe(48), **extra))
    assert kind == "page" and 'name="uid_field"' in result.text
    assert visitor.http.get("/me").status_code == 200


def test_a_wrong_client_secret_is_refused(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    wrong = exchange(live_server, client_id, secret + "x", answer["code"], verifier)
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"


def test_secret_in_the_body_works_too(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    data = {
        "grant_type": "authorization_code",
        "code": answer["code"],
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": client_id,
        "client_secret": secret,
    }
    assert httpx.post(live_server("/application/o/token/"), data=data).status_code == 200


def test_introspection_answers_only_for_the_clients_own_tokens(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    other_id, other_secret = make_client(app, slug="other")
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    url = live_server("/application/o/introspect/")
    mine = httpx.post(url, data={"token": token["access_token"]}, auth=(client_id, secret)).json()
    assert mine["active"] is True and mine["client_id"] == client_id and mine["username"] == "alice"
    theirs = httpx.post(url, data={"token": token["access_token"]}, auth=(other_id, other_secret))
    assert theirs.json() == {"active": False}


def test_revocation_ends_the_token(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    revoked = httpx.post(
        live_server("/application/o/revoke/"),
        data={"token": token["refresh_token"]},
        auth=(client_id, secret),
    )
    assert revoked.status_code == 200
    userinfo = httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert userinfo.status_code == 401


def test_signing_out_revokes_the_tokens_of_that_sign_in(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    kind, page = visitor.follow("/logout")
    if kind == "page" and "csrf_token" in page.text:
        visitor.post_form(page, {})
    userinfo = httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert userinfo.status_code == 401


def test_client_credentials_for_a_confidential_client(app, live_server):
    client_id, secret = make_client(app)
    response = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "client_credentials", "scope": "openid"},
        auth=(client_id, secret),
    )
    assert response.status_code == 200, response.text
    assert "refresh_token" not in response.json()


def test_me_lists_usable_apps_and_withdrawing_consent_ends_tokens(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    make_client(app, slug="hidden")
    with app.app_context():
        make_group("staff")
    bind_group(app, "hidden", "staff")
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    kind, page = visitor.follow("/me/applications")
    assert kind == "page" and page.status_code == 200
    assert "RP" in page.text and "HIDDEN" not in page.text
    assert "offline_access, openid, profile" in page.text
    kind, after = visitor.post_form(page, {})
    assert "not allowed any application" in after.text
    userinfo = httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert userinfo.status_code == 401


@pytest.mark.parametrize("change", ["password", "disable"])
def test_a_password_change_or_a_disabled_account_ends_tokens(
    app, live_server, visitor, alice, change
):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    with app.app_context():
        from idp.identity.accounts import find_user, set_password

        user = find_user("alice")
        if change == "password":
            set_password(user, "another long passphrase")
        else:
            user.is_active = False
        db.session.commit()
    userinfo = httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert userinfo.status_code == 401
    refresh = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(client_id, secret),
    )
    assert refresh.status_code == 400


def test_removing_access_stops_refresh(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    with app.app_context():
        make_group("staff")
    bind_group(app, "rp", "staff")
    refresh = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(client_id, secret),
    )
    assert refresh.status_code == 400


def test_a_sign_in_older_than_max_age_signs_in_again_then_answers(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    url = authorize_url(client_id, secrets.token_urlsafe(48), max_age="0")
    kind, result = visitor.follow(url)
    assert kind == "page" and 'name="uid_field"' in result.text
    kind, result = visitor.authorize(url, "alice")
    assert kind == "redirect" and "code" in query_of(result)


@pytest.mark.parametrize(
    "extra",
    [
        {"response_type": 'co"de'},
        {"response_type": "code\\"},
        {"redirect_uri": 'https://rp.example.test/"x'},
        {"redirect_uri": "https://rp.example.test/\\x"},
        {"scope": "openid " + "x" * 5000},
        {"nonce": "n" * 5000},
    ],
)
def test_unreadable_parameters_get_a_clear_400_never_a_500(app, live_server, alice, extra):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), **extra)
    answer = httpx.get(live_server.url + url)
    # Refused with a message, or (a readable request from someone not signed in) sent to sign in.
    assert answer.status_code in (302, 400), answer.text[:500]
