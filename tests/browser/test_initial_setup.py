"""The first visitor of a fresh instance sets up the administrator, once."""

from playwright.sync_api import expect

from tests.browser.pages import AT_ANY_STEP, settled, stage, url_path
from tests.factories import PASSWORD

SETUP_FLOW = "/flow/initial-setup/"
ALREADY_SET_UP = "Gatehouse is already set up. Sign in instead."


def test_initial_setup_creates_the_admin_once(visitor, new_context, javascript):
    visitor.goto("/")

    expect(visitor).to_have_url(url_path(SETUP_FLOW + AT_ANY_STEP))
    settled(visitor, "prompt")
    expect(visitor.locator('input[name="username"]')).to_have_value("admin")
    visitor.fill('input[name="username"]', "root")
    visitor.fill('input[name="email"]', "root@example.test")
    visitor.fill('input[name="password"]', PASSWORD)
    visitor.fill('input[name="password_repeat"]', PASSWORD)
    visitor.get_by_role("button", name="Continue").click()

    expect(visitor).to_have_url(url_path("/me$"))
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
