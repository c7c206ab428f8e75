"""The signed-in user's own page and the password change, in a browser, JS on and off."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import settled, sign_in, stage, url_path
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")
NEW_PASSWORD = "a completely new passphrase 7"


def test_changing_the_password_from_me(visitor, make_user, new_context):
    username = make_user()
    elsewhere = new_context().new_page()
    sign_in(elsewhere, username, PASSWORD)
    sign_in(visitor, username, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))

    visitor.get_by_role("link", name="Change your password").click()
    current = stage(visitor, "password")
    expect(current).to_be_visible()
    current.locator('input[name="password"]').fill(PASSWORD)
    expect(current.get_by_label("Current password")).to_be_visible()
    current.get_by_role("button", name="Confirm").click()
    prompt = settled(visitor, "prompt")
    # Scoped to the new fragment: the outgoing password stage had a field of the same name.
    for name in ("password", "password_repeat"):
        field = prompt.locator(f'input[name="{name}"]')
        field.fill(NEW_PASSWORD)
        expect(field).to_have_value(NEW_PASSWORD)
    prompt.get_by_role("button", name="Continue").click()

    expect(visitor).to_have_url(url_path("/me$"))
    elsewhere.goto("/me")
    expect(elsewhere).to_have_url(url_path("/flow/default-authentication-flow/.*"))


def test_signing_out_everywhere_else_from_me(visitor, make_user, new_context):
    username = make_user()
    other = new_context().new_page()
    sign_in(other, username, PASSWORD)
    sign_in(visitor, username, PASSWORD)
    expect(visitor.locator("table.sessions tbody tr")).to_have_count(2)

    visitor.get_by_role("button", name="Sign out everywhere else").click()

    expect(visitor.get_by_role("status")).to_contain_text("Signed out of 1 other session.")
    expect(visitor.locator("table.sessions tbody tr")).to_have_count(1)
    other.goto("/me")
    expect(other).to_have_url(url_path("/flow/default-authentication-flow/.*"))
