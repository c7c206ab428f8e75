"""Success notices: after recovery, an authenticator's setup, new recovery codes, a password
change and signing out, the next page says it worked. Plain forms (JavaScript off) and HTMX."""

import re

import pyotp
import pytest

from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user
from tests.http.stages.test_authenticators import Clock, otpauth_uri

CHANGE = "default-password-change"
RECOVERY = "default-recovery-flow"
TOTP_SETUP = "default-authenticator-totp-setup"
STATIC_SETUP = "default-authenticator-static-setup"
NEW_PASSWORD = "violet kettle marches north"


@pytest.fixture
def alice(app):
    with app.app_context():
        make_user("admin", superuser=True)  # set up: "/" leads to the sign-in page
        return make_user("alice", email="alice@example.test").id


def signed_in(app) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in("alice", PASSWORD)
    return driver


def next_page(driver: FlowDriver, response) -> str:
    """The page the browser shows once the flow has sent it on (a 303, or HX-Redirect)."""
    target = response.headers.get("HX-Redirect") or response.headers["Location"]
    return driver.client.get(target, follow_redirects=True).get_data(as_text=True)


def notices(html: str) -> list[str]:
    found = re.findall(r'<p class="notice success" role="status">(.*?)</p>', html, re.S)
    return [" ".join(notice.split()) for notice in found]


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_a_changed_password_is_confirmed_on_the_next_page(app, alice, htmx):
    driver = signed_in(app)
    driver.open(CHANGE, next_url="/me")
    driver.submit(CHANGE, {"password": PASSWORD}, htmx=htmx, next_url="/me")
    response = driver.submit(
        CHANGE,
        {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD},
        htmx=htmx,
        next_url="/me",
    )
    page = next_page(driver, response)
    assert notices(page) == ["Your password was changed. Your other sessions were signed out."]
    # Said once: the page after that has no notice.
    assert notices(driver.client.get("/me").get_data(as_text=True)) == []


def test_signing_out_says_so_on_the_sign_in_page(app, alice):
    driver = signed_in(app)
    page = driver.client.get("/logout", follow_redirects=True).get_data(as_text=True)
    assert 'data-stage="identification"' in page
    assert notices(page) == ["You have signed out."]


def test_signing_out_without_a_session_says_nothing(app, alice, flows):
    page = flows.client.get("/logout", follow_redirects=True).get_data(as_text=True)
    assert notices(page) == []


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_an_authenticator_app_set_up_is_confirmed(app, alice, monkeypatch, htmx):
    clock = Clock(monkeypatch)
    driver = signed_in(app)
    driver.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(driver.page))
    response = driver.submit(TOTP_SETUP, {"code": clock.code(totp)}, htmx=htmx)
    assert notices(next_page(driver, response)) == [
        "Your authenticator app is set up: signing in asks for a code from it."
    ]


def test_saved_recovery_codes_are_confirmed(app, alice):
    driver = signed_in(app)
    driver.open(STATIC_SETUP)
    assert 'class="recovery-codes"' in driver.page
    response = driver.submit(STATIC_SETUP, {})
    assert notices(next_page(driver, response)) == [
        "Your recovery codes are ready. Each one signs you in once."
    ]


def test_a_finished_recovery_is_confirmed_once_signed_in(app, flows, mailbox, alice):
    flows.open(RECOVERY)
    flows.submit(RECOVERY, {"uid_field": "alice"})
    flows.client.get(re.sub(r"^https?://[^/]+", "", mailbox.last_link()))
    flows.open(RECOVERY)
    assert flows.stage == "prompt"
    response = flows.submit(RECOVERY, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    page = next_page(flows, response)
    assert "Your account" in page
    assert notices(page) == ["Your password was reset, and you are signed in."]
