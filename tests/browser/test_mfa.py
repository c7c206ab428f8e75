"""An authenticator app in a real browser, JavaScript on and off: set it up while signed in,
sign out, then sign in with the password and a code."""

import time

import pyotp
import pytest
from playwright.sync_api import expect

from tests.browser.pages import enter_password, identify, sign_in, stage, url_path
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

TOTP_SETUP = "/flow/default-authenticator-totp-setup/?next=/me"


def set_up_app(page) -> pyotp.TOTP:
    page.goto(TOTP_SETUP)
    expect(stage(page, "authenticator_totp")).to_be_visible()
    expect(page.locator("svg.qr-code")).to_be_visible()
    totp = pyotp.parse_uri(page.locator("a.otpauth-uri").get_attribute("href"))
    page.fill('input[name="code"]', "000000" if totp.now() != "000000" else "111111")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_text("That code is not right.")).to_be_visible()
    page.fill('input[name="code"]', totp.now())
    page.get_by_role("button", name="Turn on").click()
    expect(page).to_have_url(url_path("/me$"))
    return totp


def test_set_up_an_app_then_sign_in_with_password_and_code(visitor, javascript, make_user):
    username = make_user()
    # The QR code is inline SVG: the Content Security Policy must not block any of it.
    blocked = []
    visitor.on(
        "console",
        lambda message: blocked.append(message.text) if "Security Policy" in message.text else None,
    )
    sign_in(visitor, username, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))

    totp = set_up_app(visitor)

    visitor.get_by_role("link", name="Sign out").first.click()
    expect(stage(visitor, "identification")).to_be_visible()
    if javascript:
        visitor.evaluate("window.__marker = 1")
    identify(visitor, username)
    enter_password(visitor, PASSWORD)
    expect(stage(visitor, "authenticator_validate")).to_be_visible()
    expect(visitor.locator('input[name="code"]')).to_be_focused()
    if javascript:
        assert visitor.evaluate("window.__marker") == 1
    # The setup used this time step's code; the next step's is still within the window.
    visitor.fill('input[name="code"]', totp.at(time.time() + 30))
    visitor.get_by_role("button", name="Verify").click()
    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.get_by_role("link", name="Sign out").first).to_be_visible()
    assert blocked == []


def test_make_recovery_codes_then_sign_in_with_one(visitor, make_user):
    username = make_user()
    sign_in(visitor, username, PASSWORD)
    visitor.get_by_role("link", name="Create recovery codes").click()
    expect(stage(visitor, "authenticator_static")).to_be_visible()
    codes = visitor.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    visitor.get_by_role("button", name="I have saved them").click()
    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.locator("ul.authenticators")).to_contain_text("10 left")

    visitor.get_by_role("link", name="Sign out").first.click()
    identify(visitor, username)
    enter_password(visitor, PASSWORD)
    expect(stage(visitor, "authenticator_validate")).to_be_visible()
    visitor.fill('input[name="code"]', codes[0])
    visitor.get_by_role("button", name="Verify").click()
    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.locator("ul.authenticators")).to_contain_text("9 left")
