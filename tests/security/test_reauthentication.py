"""A stolen session cookie cannot plant a second factor: adding an authenticator app or
recovery codes needs the password (and a code, when the user has a second factor) within
IDP_REAUTHENTICATION_WINDOW of proving it, kept on the session row. Adding one mails the
owner. The clock is moved with time-machine; the server runs in this process, so it moves
for the server too."""

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
import time_machine
from sqlalchemy import func, select

from idp.core.config import ConfigError, load_settings
from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.identity import sessions
from idp.models import StaticCode, TotpDevice, UserSession
from tests.factories import PASSWORD
from tests.http.stages.test_authenticators import otpauth_uri, recovery_codes_on
from tests.security.visitor import AUTH
from tests.smtp_server import text_of

TOTP_SETUP = "default-authenticator-totp-setup"
STATIC_SETUP = "default-authenticator-static-setup"
START = datetime(2026, 12, 2, 9, 0, 15, tzinfo=UTC)  # mid TOTP step
ASKED = "To add a way to sign in, first confirm it is you"


@pytest.fixture(autouse=True)
def no_last_seen_updates(monkeypatch):
    # Not what these tests are about: the first request after a minute idle updates
    # last_seen_at, which issue 10 item 0 fixes separately.
    monkeypatch.setattr(sessions, "LAST_SEEN_RESOLUTION", timedelta(days=1))


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def devices_of(app, user_id) -> int:
    return count(app, TotpDevice, TotpDevice.user_id == user_id)


def codes_of(app, user_id) -> int:
    return count(app, StaticCode, StaticCode.user_id == user_id)


def set_up_app(visitor) -> pyotp.TOTP:
    visitor.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(visitor.page))
    visitor.submit(TOTP_SETUP, {"code": totp.now()})
    return totp


def test_right_after_signing_in_an_app_is_added_without_asking_again(
    app, visitor, mailbox, alice, clock
):
    visitor.sign_in("alice")
    clock.shift(timedelta(minutes=4))
    set_up_app(visitor)
    assert devices_of(app, alice) == 1
    (notice,) = mailbox.wait_for(1)
    assert notice["To"] == "alice@example.test"
    assert notice["Subject"] == "A way to sign in was added to your account"
    assert "An authenticator app was added to your account alice" in text_of(notice)


def test_a_stolen_cookie_cannot_add_an_app_once_the_window_has_passed(
    app, visitor, mailbox, alice, clock
):
    visitor.sign_in("alice")
    clock.shift(timedelta(minutes=5, seconds=1))
    thief = visitor.with_cookie(visitor.cookie)
    thief.open(TOTP_SETUP)
    assert ASKED in thief.text
    assert "otpauth://" not in thief.page  # no secret is even shown

    response = thief.submit(TOTP_SETUP, {"code": "123456"})  # the old form's field only
    assert response.status_code == 400
    response = thief.submit(TOTP_SETUP, {"password": "a guess"})
    assert response.status_code == 400 and "That password is not right." in thief.text
    assert "otpauth://" not in thief.page
    assert devices_of(app, alice) == 0
    with app.app_context():
        (stamp,) = db.session.scalars(select(UserSession.reauthenticated_at))
    assert stamp == START  # set at sign-in, never since
    thief.close()
    wait_for_mail()
    assert mailbox.messages == []


def test_the_password_opens_a_new_window_that_closes_again(app, visitor, mailbox, alice, clock):
    visitor.sign_in("alice")
    # Past the 5-minute window, within the session's 30-minute idle timeout.
    clock.shift(timedelta(minutes=20))
    visitor.open(STATIC_SETUP)
    assert ASKED in visitor.text and "Code" not in visitor.text  # no second factor yet
    visitor.submit(STATIC_SETUP, {"password": PASSWORD})
    assert len(recovery_codes_on(visitor.page)) == 10
    visitor.submit(STATIC_SETUP, {})
    mailbox.wait_for(1)

    clock.shift(timedelta(minutes=4))  # still within the window
    visitor.open(TOTP_SETUP)
    assert "otpauth://" in visitor.page
    clock.shift(timedelta(minutes=2))  # past it: the QR code shown earlier is not enough
    visitor.submit(TOTP_SETUP, {"code": "123456"})
    assert ASKED in visitor.text
    assert devices_of(app, alice) == 0


def test_with_a_second_factor_the_password_alone_is_not_enough(
    app, new_visitor, mailbox, alice, clock
):
    owner = new_visitor()
    owner.sign_in("alice")
    totp = set_up_app(owner)
    mailbox.wait_for(1)
    clock.shift(timedelta(minutes=10))
    codes_before = codes_of(app, alice)

    owner.open(STATIC_SETUP)
    assert ASKED in owner.text and "Code" in owner.text
    response = owner.submit(STATIC_SETUP, {"password": PASSWORD})
    assert response.status_code == 400
    assert "Enter a code from your authenticator app, or a recovery code." in owner.text
    response = owner.submit(STATIC_SETUP, {"password": PASSWORD, "code": "000000"})
    assert response.status_code == 400 and "That code is not right." in owner.text
    assert codes_of(app, alice) == codes_before

    clock.shift(timedelta(seconds=30))  # a fresh TOTP step, not the one used at setup
    owner.submit(STATIC_SETUP, {"password": PASSWORD, "code": totp.now()})
    assert len(recovery_codes_on(owner.page)) == 10
    notices = mailbox.wait_for(2)
    assert "A new set of recovery codes was added" in text_of(notices[-1])


def test_a_signed_in_user_is_asked_at_sign_in_for_the_code_only_once(app, new_visitor, alice):
    # Signing in with password and code is itself the proof: no second asking right after.
    with time_machine.travel(START, tick=False) as traveller:
        owner = new_visitor()
        owner.sign_in("alice")
        totp = set_up_app(owner)
        traveller.shift(timedelta(seconds=30))
        again = new_visitor()
        again.sign_in("alice")
        again.submit(AUTH, {"code": totp.now()})
        assert again.is_signed_in
        again.open(STATIC_SETUP)
        assert len(recovery_codes_on(again.page)) == 10


def test_the_window_is_a_setting(app, visitor, alice, clock, tmp_path):
    assert load_settings({}, str(tmp_path))["REAUTHENTICATION_WINDOW"] == 300
    with pytest.raises(ConfigError, match="IDP_REAUTHENTICATION_WINDOW"):
        load_settings({"IDP_REAUTHENTICATION_WINDOW": "5"}, str(tmp_path))
    app.config["REAUTHENTICATION_WINDOW"] = load_settings(
        {"IDP_REAUTHENTICATION_WINDOW": "60"}, str(tmp_path)
    )["REAUTHENTICATION_WINDOW"]
    visitor.sign_in("alice")
    clock.shift(timedelta(seconds=61))
    visitor.open(TOTP_SETUP)
    assert ASKED in visitor.text
