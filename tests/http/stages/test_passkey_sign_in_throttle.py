"""Passwordless passkey sign-ins that fail are recorded without naming anyone and counted
against the client IP, on the same counter as password guesses; past the IP's free attempts
even a valid passkey waits. tests/postgres/test_passkey_concurrency.py has the parallel race
on PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event, FailedAttempts
from idp.protection import attempts, reputation
from tests.conftest import POSTGRES_URL, FlowDriver
from tests.factories import PASSWORD, make_user
from tests.http.stages.test_passkeys import (  # app_settings: the same relying party
    AUTH,
    app_settings,  # noqa: F401
    set_options,
    with_passkey,
)
from tests.soft_authenticator import SoftAuthenticator, options_on

CLIENT_IP = "198.51.100.40"
NOT_REGISTERED = "not registered here"
THROTTLED = "Too many failed attempts. Try again in"


@pytest.fixture(autouse=True)
def _passkey_login(app):
    set_options(app, "default-authentication-identification", passkey_login=True)


@pytest.fixture
def clock(time_machine):
    """A wait of 2 s must not run out while a loaded machine runs the test; the test moves
    the clock itself."""
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


@pytest.fixture
def key(app, flows, alice):
    """Alice's passkey, set up after a password sign-in from another address."""
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    flows.client.environ_base["REMOTE_ADDR"] = CLIENT_IP
    return authenticator


def recorded(app, action: str) -> list[Event]:
    with app.app_context():
        return list(db.session.scalars(select(Event).where(Event.action == action)))


def ip_failures(app, ip: str = CLIENT_IP) -> int:
    with app.app_context():
        return attempts.failures_of(attempts.CLIENT_IP, ip)


def answer(flows, authenticator: SoftAuthenticator, **changes):
    """Answer the passkey request on the page shown (a fresh one is opened when none is)."""
    if "data-webauthn-options" not in flows.page:
        flows.open(AUTH)
    options = options_on(flows.page)
    return flows.submit(AUTH, {"webauthn_response": authenticator.get(options, **changes)})


def is_signed_in(flows) -> bool:
    return flows.client.get("/me").status_code == 200


def refuse(flows, times: int) -> None:
    stranger = SoftAuthenticator(user_handle=b"stranger")
    for _ in range(times):
        assert answer(flows, stranger).status_code == 400
        assert NOT_REGISTERED in flows.text


@pytest.mark.parametrize(
    ("refusal", "message"),
    [
        ("unknown passkey", NOT_REGISTERED),
        ("other origin", "could not be used"),
        ("user not verified", "could not be used"),
    ],
)
def test_a_refused_passkey_is_recorded_and_counted_without_naming_anyone(
    app, flows, key, refusal, message
):
    if refusal == "unknown passkey":
        response = answer(flows, SoftAuthenticator(user_handle=b"someone"))
    elif refusal == "other origin":
        response = answer(flows, key, origin="http://evil.test")
    else:
        key.user_verified = False
        response = answer(flows, key)
    assert response.status_code == 400
    assert message in flows.text
    assert not is_signed_in(flows)
    # Alice's own passkey, refused, names her nowhere in the audit log.
    [event] = recorded(app, "passkey_login_failed")
    assert (event.user_id, event.username) == (None, "")
    assert (event.ip, event.flow_slug) == (CLIENT_IP, AUTH)
    assert event.detail == {"reason": "refused"}
    assert ip_failures(app) == 1


def test_an_inactive_users_passkey_is_refused_counted_and_recorded_with_their_name(
    app, flows, key, alice
):
    from idp.models import User

    with app.app_context():
        db.session.get(User, alice).is_active = False
        db.session.commit()
    assert answer(flows, key).status_code == 400
    assert "could not be used" in flows.text
    [event] = recorded(app, "passkey_login_failed")
    # The passkey verified her: only then may the log say whose it is.
    assert (event.user_id, event.username, event.detail) == (alice, "alice", {"reason": "inactive"})
    assert ip_failures(app) == 1


def test_the_same_answer_posted_twice_fails_the_second_time_and_is_counted(app, flows, key):
    flows.open(AUTH)
    signed = key.get(options_on(flows.page))
    page, cookie = flows.page, flows.client.get_cookie("gatehouse_session").value
    assert flows.submit(AUTH, {"webauthn_response": signed}).status_code == 303
    assert ip_failures(app) == 0
    flows.sign_out()
    flows.client.set_cookie("gatehouse_session", cookie)
    flows.page = page
    response = flows.submit(AUTH, {"webauthn_response": signed})
    assert response.status_code == 400
    assert "expired or was already used" in flows.text
    assert not is_signed_in(flows)
    [event] = recorded(app, "passkey_login_failed")
    assert (event.username, event.detail) == ("", {"reason": "expired"})
    assert ip_failures(app) == 1


def test_past_the_ips_free_attempts_a_valid_passkey_waits_until_the_clock_passes(
    app, flows, key, clock
):
    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=3)
    refuse(flows, 3)
    assert answer(flows, key).status_code == 400
    assert f"{THROTTLED} 2 s." in flows.text
    assert not is_signed_in(flows)
    [event] = recorded(app, "passkey_login_throttled")
    assert (event.username, event.ip, event.detail) == ("", CLIENT_IP, {"wait": 2})
    assert ip_failures(app) == 3  # an answer not weighed is not counted
    clock.shift(timedelta(seconds=1))
    answer(flows, key)
    assert f"{THROTTLED} 1 s." in flows.text
    clock.shift(timedelta(seconds=1))
    assert answer(flows, key).status_code == 303
    assert is_signed_in(flows)


def test_passkey_failures_slow_the_same_addresss_password_guesses(app, flows, key):
    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=2)
    refuse(flows, 2)
    flows.sign_in("alice", PASSWORD)
    assert THROTTLED in flows.text
    other = FlowDriver(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "198.51.100.41"
    other.sign_in("alice", PASSWORD)
    assert other.stage == "authenticator_validate"  # her passkey is asked next, as always


def test_a_passkey_sign_in_gives_the_ips_count_back(app, flows, key):
    refuse(flows, 2)
    assert ip_failures(app) == 2
    assert answer(flows, key).status_code == 303
    assert ip_failures(app) == 2
    assert recorded(app, "passkey_login_failed") and not recorded(app, "passkey_login_throttled")


def test_a_passkey_sign_in_after_the_wait_keeps_the_failures_before_it(app, flows, key, clock):
    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=2)
    refuse(flows, 2)
    with app.app_context():
        blocked_until = db.session.scalar(
            select(FailedAttempts.blocked_until).where(FailedAttempts.key == CLIENT_IP)
        )
    assert blocked_until is not None
    clock.shift(timedelta(seconds=2))
    assert answer(flows, key).status_code == 303
    # Given back, not forgotten: one success does not wipe a run of failures from the address.
    assert ip_failures(app) == 2


@pytest.mark.skipif(bool(POSTGRES_URL), reason="tests/postgres races on PostgreSQL")
def test_parallel_refused_passkeys_from_one_address_get_no_further_than_its_threshold(app, alice):
    from concurrent.futures import ThreadPoolExecutor

    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=5)
    stranger = SoftAuthenticator(user_handle=b"stranger")
    drivers, answers = [], []
    for _ in range(12):
        driver = FlowDriver(app.test_client())
        driver.client.environ_base["REMOTE_ADDR"] = CLIENT_IP
        driver.open(AUTH)
        drivers.append(driver)
        answers.append(stranger.get(options_on(driver.page)))
    with ThreadPoolExecutor(max_workers=len(drivers)) as pool:
        list(
            pool.map(
                lambda driver, signed: driver.submit(AUTH, {"webauthn_response": signed}),
                drivers,
                answers,
            )
        )
    weighed = sum(NOT_REGISTERED in driver.text for driver in drivers)
    throttled = sum(THROTTLED in driver.text for driver in drivers)
    assert (weighed, throttled) == (5, 7)
    assert ip_failures(app) == 5
    assert len(recorded(app, "passkey_login_failed")) == 5
    assert len(recorded(app, "passkey_login_throttled")) == 7


def test_an_unsigned_answer_with_an_old_counter_names_nobody_and_says_nothing_of_cloning(
    app, flows, key
):
    assert answer(flows, key).status_code == 303  # the stored counter is now 1
    flows.sign_out()
    # Someone who knows the passkey's id and user handle, but not its key, replays count 1.
    forger = SoftAuthenticator(credential_id=key.credential_id, user_handle=key.user_handle)
    assert answer(flows, forger, sign_count=1).status_code == 400
    assert "could not be used" in flows.text
    assert recorded(app, "passkey_counter_went_back") == []
    [event] = recorded(app, "passkey_login_failed")
    assert (event.user_id, event.username) == (None, "")


def test_refused_passkeys_lower_the_addresss_reputation_and_a_sign_in_raises_it(app, flows, key):
    refuse(flows, 2)
    with app.app_context():
        assert reputation.current_score(reputation.CLIENT_IP, CLIENT_IP) == -2
        assert reputation.current_score(reputation.USERNAME, "alice") == 1  # her password, once
    assert answer(flows, key).status_code == 303
    with app.app_context():
        assert reputation.current_score(reputation.CLIENT_IP, CLIENT_IP) == -1
        assert reputation.current_score(reputation.USERNAME, "alice") == 2
