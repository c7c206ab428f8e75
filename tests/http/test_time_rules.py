"""Every time rule of the product, with the clock moved (time-machine) just before and just
past its limit, through HTTP. Sessions are in test_session_time.py, mailed links and sign-ups
in mail/test_mail_time.py."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from idp.core.extensions import db
from idp.identity import devices
from idp.protection import attempts
from idp.protection.reputation import CLIENT_IP, USERNAME, current_score
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, account_of, make_user
from tests.http.stages.test_authenticators import otpauth_uri
from tests.http.stages.test_captcha import captcha_flow, expected_text
from tests.http.stages.test_consent import consent_flow
from tests.http.stages.test_invitation import follow, invite, invited_flow, open_link
from tests.http.test_password_policies import sign_in_with_forced_change

AUTH = "default-authentication-flow"
TOTP_SETUP = "default-authenticator-totp-setup"
SECOND = timedelta(seconds=1)
STEP = 30  # seconds per TOTP code
GUESSER_IP = "198.51.100.7"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def alice(app, clock):
    """Made on the stopped clock, so that its times are whole seconds too."""
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


def signed_in(flows) -> bool:
    return flows.client.get("/me").status_code == 200


def guess(app, username, password, ip=GUESSER_IP) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.client.environ_base["REMOTE_ADDR"] = ip
    driver.sign_in(username, password)
    return driver


# -- a flow's plan ---------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "is_kept"), [(1800 - 1, True), (1800, False)])
def test_a_plan_lasts_its_lifetime_from_when_it_was_made(app, flows, alice, clock, age, is_kept):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    assert flows.stage == "password"
    clock.shift(timedelta(seconds=age))
    flows.submit(AUTH, {"password": PASSWORD})
    assert signed_in(flows) is is_kept
    if not is_kept:
        assert "That step had expired, so we started again." in flows.text
        assert flows.stage == "identification"


def test_a_plan_in_use_still_ends_at_its_lifetime(app, flows, alice, clock):
    flows.open(AUTH)
    for _ in range(4):  # seen every seven minutes: use does not stretch a plan
        clock.shift(timedelta(minutes=7))
        flows.open(AUTH)
        assert flows.stage == "identification" and "expired" not in flows.text
    clock.shift(timedelta(minutes=2))  # thirty minutes after it was made
    flows.submit(AUTH, {"uid_field": "alice"})
    assert flows.stage == "identification" and "expired" in flows.text


# -- authenticator app codes -----------------------------------------------------------------


@pytest.fixture
def totp(app, alice, clock) -> pyotp.TOTP:
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", PASSWORD)
    flows.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    flows.submit(TOTP_SETUP, {"code": totp.now()})
    # To the first second of a step, well after the setup's.
    clock.move_to(datetime.fromtimestamp((int(now().timestamp()) // STEP + 10) * STEP, UTC))
    return totp


def code_page(app) -> FlowDriver:
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", PASSWORD)
    assert flows.stage == "authenticator_validate"
    return flows


def test_a_code_is_good_until_the_end_of_the_next_step(app, totp, clock):
    code = totp.now()
    flows = code_page(app)
    clock.shift(timedelta(seconds=2 * STEP) - SECOND)  # the last second of the next step
    flows.submit(AUTH, {"code": code})
    assert signed_in(flows)


def test_a_code_is_refused_two_steps_later(app, totp, clock):
    code = totp.now()
    flows = code_page(app)
    clock.shift(timedelta(seconds=2 * STEP))
    flows.submit(AUTH, {"code": code})
    assert not signed_in(flows)
    assert "That code is not right." in flows.text


def test_a_code_from_the_step_before_is_good_and_from_two_steps_before_is_not(app, totp, clock):
    earlier = totp.at(now() - timedelta(seconds=STEP))
    much_earlier = totp.at(now() - timedelta(seconds=2 * STEP))
    refused, accepted = code_page(app), code_page(app)
    refused.submit(AUTH, {"code": much_earlier})
    assert not signed_in(refused)
    accepted.submit(AUTH, {"code": earlier})
    assert signed_in(accepted)


def test_a_used_step_stays_used_while_its_code_is_still_in_the_window(app, totp, clock):
    code = totp.now()
    first = code_page(app)
    first.submit(AUTH, {"code": code})
    assert signed_in(first)
    clock.shift(timedelta(seconds=STEP))  # the code is still within the window
    second = code_page(app)
    second.submit(AUTH, {"code": code})
    assert not signed_in(second)
    second.submit(AUTH, {"code": totp.now()})  # the next step's code is new
    assert signed_in(second)


# -- failed sign-in throttling ---------------------------------------------------------------


@pytest.fixture
def throttled(app, alice, clock):
    """Alice's account after its free attempts, waiting its first delay."""
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        assert "Invalid username or password." in guess(app, "alice", "wrong").text
    delay = app.config["LOGIN_DELAY_BASE"]
    assert f"Try again in {delay} s." in guess(app, "alice", PASSWORD).text
    return timedelta(seconds=delay)


def test_the_wait_holds_until_its_last_second(app, throttled, clock):
    clock.shift(throttled - SECOND)
    driver = guess(app, "alice", PASSWORD)
    assert "Try again in 1 s." in driver.text
    assert not signed_in(driver)


def test_the_right_password_gets_in_once_the_wait_is_over(app, throttled, clock):
    clock.shift(throttled)
    assert signed_in(guess(app, "alice", PASSWORD))


@pytest.mark.parametrize(("quiet", "count"), [(-1, 5), (0, 5), (1, 1)])
def test_failures_are_forgotten_a_day_after_the_last(app, alice, clock, quiet, count):
    forget = timedelta(seconds=app.config["LOGIN_FAILURES_FORGOTTEN_AFTER"])
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"] - 1):
        guess(app, "alice", "wrong")
    clock.shift(forget + timedelta(seconds=quiet))
    guess(app, "alice", "wrong")
    with app.app_context():
        assert attempts.failures_of("account", account_of("alice")) == count


# -- reputation --------------------------------------------------------------------------------


@pytest.mark.parametrize(("quiet", "score"), [(-1, -2), (1, 0)])
def test_a_reputation_is_forgotten_a_day_after_its_last_change(app, alice, clock, quiet, score):
    guess(app, "alice", "wrong")
    guess(app, "alice", "wrong")
    clock.shift(timedelta(days=1, seconds=quiet))
    with app.app_context():
        assert current_score(USERNAME, "alice") == score
        assert current_score(CLIENT_IP, GUESSER_IP) == score


@pytest.mark.parametrize(("quiet", "score"), [(-1, -3), (1, -1)])
def test_a_failure_after_a_quiet_day_starts_the_reputation_again(app, alice, clock, quiet, score):
    guess(app, "alice", "wrong")
    guess(app, "alice", "wrong")
    clock.shift(timedelta(days=1, seconds=quiet))
    guess(app, "alice", "wrong")
    with app.app_context():
        assert current_score(USERNAME, "alice") == score


# -- invitations -------------------------------------------------------------------------------


@pytest.fixture
def invitation_slug(app):
    with app.app_context():
        return invited_flow()


@pytest.mark.parametrize(("age", "is_accepted"), [(3600 - 1, True), (3600, False)])
def test_an_invitation_works_until_it_expires(app, flows, invitation_slug, clock, age, is_accepted):
    _, token = invite(app, expires_in=timedelta(hours=1))
    clock.shift(timedelta(seconds=age))
    follow(flows, open_link(flows, invitation_slug, token))
    if is_accepted:
        flows.submit(invitation_slug, {"itoken": token})
        assert flows.stage == "prompt"
    else:
        assert "This invitation has expired." in flows.text
        assert "Accept invitation" not in flows.page


def test_an_invitation_accepted_just_in_time_still_signs_up(app, flows, invitation_slug, clock):
    _, token = invite(app, expires_in=timedelta(hours=1))
    clock.shift(timedelta(hours=1) - SECOND)
    follow(flows, open_link(flows, invitation_slug, token))
    flows.submit(invitation_slug, {"itoken": token})
    assert flows.stage == "prompt"
    clock.shift(timedelta(minutes=5))
    flows.submit(invitation_slug, {"username": "guest", "password": "a long guest password"})
    with app.app_context():
        from sqlalchemy import select

        from idp.models import User

        assert db.session.scalar(select(User.username).where(User.username == "guest")) == ("guest")


# -- remembered devices ----------------------------------------------------------------------


@pytest.mark.parametrize(("age", "is_trusted"), [(-1, True), (1, False)])
def test_a_remembered_device_is_trusted_for_180_days(app, alice, clock, age, is_trusted):
    own_browser = guess(app, "alice", PASSWORD, ip="192.0.2.10")
    assert signed_in(own_browser)
    device_cookie = own_browser.client.get_cookie(devices.COOKIE_NAME).value
    clock.shift(timedelta(seconds=devices.MAX_AGE + age))
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        guess(app, "alice", "wrong", ip="203.0.113.1")
    browser = FlowDriver(app.test_client())
    # The server decides, even for a browser that keeps a cookie past its Max-Age.
    browser.client.set_cookie(devices.COOKIE_NAME, device_cookie)
    browser.sign_in("alice", PASSWORD)
    assert signed_in(browser) is is_trusted
    assert ("Try again in" in browser.text) is not is_trusted


# -- consent -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "is_asked"), [(20 * 60 - 1, False), (20 * 60, True)])
def test_an_expiring_consent_is_asked_again_once_it_runs_out(
    app, flows, alice, clock, age, is_asked
):
    with app.app_context():
        slug = consent_flow(mode="expiring", expires_in="20m")
    flows.sign_in("alice", PASSWORD)
    flows.open(slug)
    flows.submit(slug, {})
    assert flows.stage == "prompt"
    clock.shift(timedelta(seconds=age))
    flows.client.get(f"/flow/{slug}/restart")
    flows.open(slug)
    assert (flows.stage == "consent") is is_asked


# -- captcha -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "is_accepted"), [(10 * 60 - 1, True), (10 * 60, False)])
def test_a_captcha_challenge_lasts_ten_minutes(app, flows, clock, age, is_accepted):
    with app.app_context():
        slug = captcha_flow()
    flows.open(slug)
    text = expected_text(app)
    clock.shift(timedelta(seconds=age))
    response = flows.submit(slug, {"answer": text})
    if is_accepted:
        assert response.status_code == 303 and flows.stage == "prompt"
    else:
        assert response.status_code == 400 and "had expired" in flows.text


# -- password age ------------------------------------------------------------------------------


@pytest.mark.parametrize(("age", "is_forced"), [(-1, False), (0, True)])
def test_a_password_must_be_changed_once_it_reaches_its_maximum_age(
    app, flows, alice, clock, age, is_forced
):
    with app.app_context():
        slug = sign_in_with_forced_change()  # 90 days
    clock.shift(timedelta(days=90, seconds=age))
    flows.sign_in("alice", PASSWORD, slug=slug)
    assert ("Your password has expired." in flows.text) is is_forced
    assert signed_in(flows) is not is_forced
