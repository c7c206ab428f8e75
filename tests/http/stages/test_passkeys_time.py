"""Passkey challenges as time passes, with the clock moved (time-machine): a challenge is
answered within five minutes or not at all, and a late answer gets a new challenge on the
same page, for a passwordless sign-in and for a passkey being set up."""

from datetime import timedelta

import pytest

from tests.factories import PASSWORD
from tests.http.stages import test_passkeys as passkeys
from tests.http.stages.test_passkeys import AUTH, ORIGIN, SETUP, devices, with_passkey
from tests.soft_authenticator import SoftAuthenticator, options_on

# The fixtures of the passkey tests: alice, and passkeys offered on the sign-in page.
alice, passkey_login = passkeys.alice, passkeys.passkey_login
CHALLENGE_LIFETIME = timedelta(minutes=5)
SECOND = timedelta(seconds=1)
LATE = "That passkey request expired or was already used."


@pytest.fixture
def app_settings():
    # A long re-authentication window: the challenge, not the window, ends a slow set-up here.
    return {
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGIN": ORIGIN,
        "REAUTHENTICATION_WINDOW": 3600,
    }


def refused_with_a_new_challenge(flows, response, htmx, old_options) -> dict:
    assert response.status_code == (200 if htmx else 400)
    assert LATE in flows.text
    fresh = options_on(flows.page)
    assert fresh["challenge"] != old_options["challenge"]
    return fresh


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(
    ("age", "in_time"), [(CHALLENGE_LIFETIME - SECOND, True), (CHALLENGE_LIFETIME, False)]
)
def test_a_passwordless_answer_counts_for_five_minutes(
    app, flows, alice, passkey_login, clock, htmx, age, in_time
):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    flows.open(AUTH)
    options = options_on(flows.page)
    clock.shift(age)
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options)}, htmx=htmx)
    if not in_time:
        assert flows.client.get("/me").status_code != 200
        fresh = refused_with_a_new_challenge(flows, response, htmx, options)
        response = flows.submit(AUTH, {"webauthn_response": authenticator.get(fresh)}, htmx=htmx)
    assert response.headers.get("HX-Redirect" if htmx else "Location") == "/me"
    assert flows.client.get("/me").status_code == 200


@pytest.mark.parametrize("htmx", [False, True])
def test_a_passkey_set_up_too_slowly_is_refused_and_offered_again(app, flows, alice, clock, htmx):
    flows.sign_in("alice", PASSWORD)
    authenticator = SoftAuthenticator()
    flows.open(SETUP)
    options = options_on(flows.page)
    clock.shift(CHALLENGE_LIFETIME + SECOND)
    answer = {"name": "Laptop", "webauthn_response": authenticator.create(options)}
    response = flows.submit(SETUP, answer, htmx=htmx)
    fresh = refused_with_a_new_challenge(flows, response, htmx, options)
    assert devices(app, alice) == []
    answer = {"name": "Laptop", "webauthn_response": authenticator.create(fresh)}
    flows.submit(SETUP, answer, htmx=htmx)
    assert [device.name for device in devices(app, alice)] == ["Laptop"]
