"""Lifetimes against the movable clock (time-machine): a code lives 60 s, an access token its
application's access_token_lifetime, a refresh token its refresh_token_lifetime."""

import secrets
from datetime import timedelta

import httpx

from idp.models.types import utcnow
from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import exchange, get_code


def later(time_machine, **duration):
    time_machine.move_to(utcnow() + timedelta(**duration), tick=False)


def test_a_code_still_works_at_59_seconds(app, live_server, visitor, alice, time_machine):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    time_machine.move_to(utcnow(), tick=False)
    code = get_code(visitor, client_id, verifier)["code"]
    later(time_machine, seconds=59)
    assert exchange(live_server, client_id, secret, code, verifier).status_code == 200


def test_access_and_refresh_tokens_end_with_their_lifetimes(
    app, live_server, visitor, alice, time_machine
):
    client_id, secret = make_client(app, access_token_lifetime="5m", refresh_token_lifetime="1d")
    verifier = secrets.token_urlsafe(48)
    time_machine.move_to(utcnow(), tick=False)
    code = get_code(visitor, client_id, verifier)["code"]
    token = exchange(live_server, client_id, secret, code, verifier).json()
    assert token["expires_in"] == 300

    def userinfo(value):
        headers = {"Authorization": f"Bearer {value}"}
        return httpx.get(live_server("/application/o/userinfo/"), headers=headers).status_code

    def introspect(value):
        return httpx.post(
            live_server("/application/o/introspect/"), data={"token": value},
            auth=(client_id, secret),
        ).json()["active"]  # fmt: skip

    def refresh(value):
        return httpx.post(
            live_server("/application/o/token/"),
            data={"grant_type": "refresh_token", "refresh_token": value},
            auth=(client_id, secret),
        )

    later(time_machine, minutes=4, seconds=59)
    assert userinfo(token["access_token"]) == 200
    later(time_machine, seconds=2)
    assert userinfo(token["access_token"]) == 401
    assert introspect(token["access_token"]) is False
    assert introspect(token["refresh_token"]) is True
    # The refresh token outlives the access token, and rotating it starts a new day.
    renewed = refresh(token["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    later(time_machine, hours=23)
    renewed = refresh(renewed.json()["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    later(time_machine, days=1, seconds=1)
    late = refresh(renewed.json()["refresh_token"])
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


def test_a_rotated_refresh_token_introspects_as_inactive(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    first = exchange(live_server, client_id, secret, code, verifier).json()
    second = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        auth=(client_id, secret),
    ).json()

    def active(value):
        return httpx.post(
            live_server("/application/o/introspect/"), data={"token": value},
            auth=(client_id, secret),
        ).json()["active"]  # fmt: skip

    assert active(first["refresh_token"]) is False
    assert active(second["refresh_token"]) is True
