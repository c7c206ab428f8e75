"""Nothing secret in the cookie or the logs. Every Set-Cookie the server sends through
enrollment, sign-in, recovery, TOTP setup, recovery codes and sign-in with each is decoded (as
anyone holding the cookie can) and searched, with every line the app logs, for the passwords
typed, the TOTP secret, the codes and the mailed tokens."""

import re

import pyotp
import pytest

from tests.factories import PASSWORD
from tests.http.stages.test_authenticators import Clock, otpauth_uri, recovery_codes_on
from tests.security.visitor import AUTH, open_mailed_link, read_cookie

ENROLLMENT = "default-enrollment-flow"
RECOVERY = "default-recovery-flow"
TOTP_SETUP = "default-authenticator-totp-setup"
STATIC_SETUP = "default-authenticator-static-setup"
SIGNUP_PASSWORD = "violet kettle marches north"
RECOVERED_PASSWORD = "amber lantern drifts east"


class Recorder:
    """Keeps every cookie value the server sets, for every visitor it is attached to."""

    def __init__(self):
        self.cookies: list[str] = []

    def attach(self, visitor):
        visitor.http.event_hooks["response"].append(self.record)
        return visitor

    def record(self, response):
        for header in response.headers.get_list("set-cookie"):
            value = header.split(";", 1)[0].split("=", 1)[1]
            self.cookies.append(value)
            if value.count(".") >= 2:  # an itsdangerous value: readable without the key
                self.cookies.append(read_cookie(value))


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def test_no_secret_is_in_any_cookie_or_log_line(new_visitor, mailbox, alice, clock, app_logs):
    recorder = Recorder()
    secrets = [PASSWORD, SIGNUP_PASSWORD, RECOVERED_PASSWORD]

    # Enrollment with a password, confirmed by the mailed link.
    newcomer = recorder.attach(new_visitor())
    newcomer.open(ENROLLMENT)
    newcomer.submit(
        ENROLLMENT,
        {
            "username": "newbie",
            "name": "New Bie",
            "email": "newbie@example.test",
            "password": SIGNUP_PASSWORD,
            "password_repeat": SIGNUP_PASSWORD,
        },
    )
    secrets.append(open_mailed_link(newcomer, mailbox, 1))
    assert newcomer.is_signed_in

    # Recovery: a mailed link, then a new password.
    alice_browser = recorder.attach(new_visitor())
    alice_browser.open(RECOVERY)
    alice_browser.submit(RECOVERY, {"uid_field": "alice"})
    secrets.append(open_mailed_link(alice_browser, mailbox, 2))
    new_password = {"password": RECOVERED_PASSWORD, "password_repeat": RECOVERED_PASSWORD}
    alice_browser.submit(RECOVERY, new_password)
    assert alice_browser.is_signed_in

    # TOTP setup and recovery codes.
    alice_browser.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(alice_browser.page))
    setup_code = clock.code(totp)
    alice_browser.submit(TOTP_SETUP, {"code": setup_code})
    alice_browser.open(STATIC_SETUP)
    codes = recovery_codes_on(alice_browser.page)
    alice_browser.submit(STATIC_SETUP, {})
    secrets += [totp.secret, " ".join(re.findall(".{1,4}", totp.secret)), setup_code]
    secrets += codes + [code.replace("-", "") for code in codes]

    # Signing in with each: password and TOTP, password and a recovery code.
    clock.advance()
    with_totp = recorder.attach(new_visitor())
    with_totp.sign_in("alice", RECOVERED_PASSWORD)
    sign_in_code = clock.code(totp)
    with_totp.submit(AUTH, {"code": sign_in_code})
    with_code = recorder.attach(new_visitor())
    with_code.sign_in("alice", RECOVERED_PASSWORD)
    with_code.submit(AUTH, {"code": codes[0]})
    assert with_totp.is_signed_in and with_code.is_signed_in
    secrets.append(sign_in_code)

    assert len(recorder.cookies) > 20 and len(app_logs) > 10
    # The cookie was read at the steps that matter: it held the sealed setup secret and codes.
    assert any('"totp_setup"' in text for text in recorder.cookies)
    assert any('"new_recovery_codes"' in text for text in recorder.cookies)
    for where, texts in (("cookie", recorder.cookies), ("log", app_logs)):
        for secret in secrets:
            # Codes are digits: match them whole, not inside a longer number or id.
            pattern = rf"(?<![0-9A-Za-z]){re.escape(secret)}(?![0-9A-Za-z])"
            leaks = [text for text in texts if re.search(pattern, text)]
            assert leaks == [], f"{secret!r} is in a {where}"
