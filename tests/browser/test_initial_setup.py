"""The first visitor of a fresh instance sets up the administrator, once."""

import pyotp
from playwright.sync_api import expect

from tests.browser.pages import AT_ANY_STEP, settled, stage, url_path
from tests.factories import PASSWORD

SETUP_FLOW = "/flow/initial-setup/"
ALREADY_SET_UP = "Gatehouse is already set up. Sign in instead."


def test_initial_setup_creates_the_admin_once(visitor, new_context, javascript):
    visitor.goto("/")

    expect(visitor).to_have_url(
        url_path(SETUP_FLOW + r"\?next=/me/second-factor\?next%3D/admin/(&step=\d+)?$")
    )
    settled(visitor, "prompt")
    expect(visitor.locator('input[name="username"]')).to_have_value("admin")
    visitor.fill('input[name="username"]', "root")
    visitor.fill('input[name="email"]', "root@example.test")
    visitor.fill('input[name="password"]', PASSWORD)
    visitor.fill('input[name="password_repeat"]', PASSWORD)
    visitor.get_by_role("button", name="Continue").click()

    # The new administrator is offered a second factor at once, and may put it off.
    expect(visitor).to_have_url(url_path("/me/second-factor"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Protect your account with a second factor"
    )
    expect(visitor.get_by_role("link", name="Set up an authenticator app")).to_be_visible()
    expect(visitor.get_by_role("link", name="Set up a passkey or security key")).to_be_visible()
    visitor.get_by_role("link", name="Later").click()
    expect(visitor).to_have_url(url_path("/admin/$"))
    visitor.goto("/me")
    expect(visitor.locator("dl.facts")).to_contain_text("root")
    expect(visitor.locator("dl.facts")).to_contain_text("root@example.test")
    expect(visitor.locator("dl.facts")).to_contain_text("Administrator")

    visitor.goto(SETUP_FLOW)
    expect(stage(visitor, "message")).to_contain_text(ALREADY_SET_UP)

    # A stranger arriving later is not offered the setup either.
    stranger = new_context(java_script_enabled=javascript).new_page()
    stranger.goto("/")
    expect(stranger).to_have_url(url_path("/flow/default-authentication-flow/" + AT_ANY_STEP))
    stranger.goto(SETUP_FLOW)
    expect(stage(stranger, "message")).to_contain_text(ALREADY_SET_UP)
    expect(stranger.locator('input[name="password"]')).to_have_count(0)


def test_initial_setup_refuses_passwords_that_do_not_match(visitor):
    visitor.goto(SETUP_FLOW)
    settled(visitor, "prompt")
    visitor.fill('input[name="email"]', "root@example.test")
    visitor.fill('input[name="password"]', PASSWORD)
    visitor.fill('input[name="password_repeat"]', PASSWORD + " typo")
    visitor.get_by_role("button", name="Continue").click()

    expect(stage(visitor, "prompt")).to_contain_text("The passwords do not match.")
    expect(visitor).to_have_url(url_path(SETUP_FLOW + AT_ANY_STEP))
    expect(visitor.get_by_role("link", name="Sign out")).to_have_count(0)


def test_the_new_admin_sets_up_an_app_from_the_offer(visitor):
    visitor.goto("/")
    settled(visitor, "prompt")
    visitor.fill('input[name="email"]', "root@example.test")
    visitor.fill('input[name="password"]', PASSWORD)
    visitor.fill('input[name="password_repeat"]', PASSWORD)
    visitor.get_by_role("button", name="Continue").click()
    expect(visitor).to_have_url(url_path("/me/second-factor"))
    visitor.get_by_role("link", name="Set up an authenticator app").click()
    expect(stage(visitor, "authenticator_totp")).to_be_visible()
    totp = pyotp.parse_uri(visitor.locator("a.otpauth-uri").get_attribute("href"))
    visitor.fill('input[name="code"]', totp.now())
    visitor.get_by_role("button", name="Turn on").click()

    expect(visitor).to_have_url(url_path("/me/second-factor"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Your account has a second factor")
    visitor.get_by_role("link", name="Continue").click()
    expect(visitor).to_have_url(url_path("/admin/$"))
    expect(visitor.locator("#concern-mfa")).to_have_count(0)
