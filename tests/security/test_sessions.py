"""Sessions: a new session id at every sign-in, sessions that end for real (a replayed cookie
is anonymous afterwards), and cookies with the right flags over HTTP and HTTPS."""

import json

import pytest

from tests.conftest import serving
from tests.factories import PASSWORD
from tests.security.visitor import AUTH, Visitor

CHANGE = "default-password-change"
NEW_PASSWORD = "a brand new passphrase 42"


def session_id(visitor) -> str | None:
    return json.loads(visitor.cookie_text).get("sid") if visitor.cookie else None


def signed_in_visitor(new_visitor) -> Visitor:
    visitor = new_visitor()
    visitor.sign_in("alice")
    assert visitor.is_signed_in
    return visitor


def test_a_cookie_planted_before_sign_in_is_anonymous_after_it(new_visitor, alice):
    victim = new_visitor()
    victim.open(AUTH)
    planted = victim.with_cookie(victim.cookie)  # an attacker who fixed the victim's cookie
    assert session_id(victim) is None
    victim.submit(AUTH, {"uid_field": "alice"})
    victim.submit(AUTH, {"password": PASSWORD})
    assert victim.is_signed_in
    assert session_id(victim)
    assert not planted.is_signed_in


def test_signing_in_again_gives_a_new_session_id(new_visitor, alice):
    visitor = signed_in_visitor(new_visitor)
    first = session_id(visitor)
    old = visitor.with_cookie(visitor.cookie)
    visitor.get(f"/flow/{AUTH}/restart")
    visitor.sign_in("alice")
    assert visitor.is_signed_in
    assert session_id(visitor) != first
    assert not old.is_signed_in


def test_after_logout_a_replayed_cookie_is_anonymous(new_visitor, alice):
    visitor = signed_in_visitor(new_visitor)
    stolen = visitor.with_cookie(visitor.cookie)
    assert stolen.is_signed_in
    visitor.http.get("/logout", follow_redirects=True)
    assert not visitor.is_signed_in
    assert not stolen.is_signed_in


def test_a_password_change_ends_every_other_session_and_old_cookie(new_visitor, alice):
    changer, elsewhere = signed_in_visitor(new_visitor), signed_in_visitor(new_visitor)
    stolen = changer.with_cookie(changer.cookie)
    changer.open(CHANGE)
    changer.submit(CHANGE, {"password": PASSWORD})
    response = changer.submit(CHANGE, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.status_code == 303, changer.text
    assert changer.is_signed_in
    assert not elsewhere.is_signed_in
    # A copy of the changer's own cookie, taken before the change, is shut out too.
    assert not stolen.is_signed_in


def test_signing_out_everywhere_else_also_shuts_out_a_copy_of_this_cookie(new_visitor, alice):
    visitor = signed_in_visitor(new_visitor)
    stolen = visitor.with_cookie(visitor.cookie)
    me = visitor.get("/me")
    assert me.status_code == 200
    visitor.post("/me/sessions/others/revoke", {})
    assert visitor.is_signed_in
    assert not stolen.is_signed_in


def set_cookie_flags(response) -> dict[str, set[str]]:
    """Each Set-Cookie header's name and its attributes (lower-cased, values kept)."""
    cookies = {}
    for header in response.headers.get_list("set-cookie"):
        name_value, *attributes = (part.strip() for part in header.split(";"))
        cookies[name_value.split("=", 1)[0]] = {attribute.lower() for attribute in attributes}
    return cookies


def sign_in_responses(visitor) -> list:
    responses = [visitor.open(AUTH)]
    responses.append(visitor.submit(AUTH, {"uid_field": "alice"}))
    responses.append(visitor.submit(AUTH, {"password": PASSWORD}))
    return responses


def all_set_cookies(responses) -> dict[str, list[set[str]]]:
    cookies = {}
    for response in responses:
        for name, flags in set_cookie_flags(response).items():
            cookies.setdefault(name, []).append(flags)
    return cookies


def test_cookies_are_httponly_and_lax_over_http(visitor, alice):
    cookies = all_set_cookies(sign_in_responses(visitor))
    assert set(cookies) == {"gatehouse_session", "gatehouse_device"}
    for every in cookies.values():
        for flags in every:
            assert {"httponly", "samesite=lax", "path=/"} <= flags
            assert "secure" not in flags
            assert not any(flag.startswith("domain=") for flag in flags)


@pytest.fixture
def https_server(app):
    # werkzeug makes a throwaway self-signed certificate (with the cryptography package).
    with serving(app, ssl_context="adhoc") as server:
        yield server


def test_cookies_are_secure_with_the_host_prefix_over_https(https_server, alice):
    visitor = Visitor(https_server)
    responses = sign_in_responses(visitor)
    assert visitor.is_signed_in
    cookies = all_set_cookies(responses)
    assert set(cookies) == {"__Host-gatehouse_session", "__Host-gatehouse_device"}
    for every in cookies.values():
        for flags in every:
            # __Host-: Secure, Path=/ and no Domain, or browsers refuse the cookie.
            assert {"secure", "httponly", "samesite=lax", "path=/"} <= flags
            assert not any(flag.startswith("domain=") for flag in flags)
    assert responses[0].headers["Strict-Transport-Security"].startswith("max-age=")
    visitor.close()
