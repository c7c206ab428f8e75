"""The admin interface in a browser, JavaScript on and off: an administrator signs in, finds a
user and disables them, and that user's browser is signed out at once."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import LOGIN_FLOW, enter_password, identify, sign_in, url_path
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

PHONE = {"width": 375, "height": 740}


def console_errors(page) -> list[str]:
    errors = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    return errors


def test_an_administrator_finds_and_disables_a_user(visitor, new_context, javascript, make_user):
    username = make_user()
    make_user()  # someone the search must leave out
    their_browser = new_context(java_script_enabled=javascript).new_page()
    sign_in(their_browser, username, PASSWORD)
    expect(their_browser).to_have_url(url_path("/me$"))
    errors = console_errors(visitor)

    visitor.goto("/admin/")
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + r"\?next=/admin/"))
    identify(visitor, "admin")
    enter_password(visitor, PASSWORD)
    expect(visitor).to_have_url(url_path("/admin/$"))
    expect(visitor.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(visitor.locator("figure.chart svg")).to_be_visible()

    visitor.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Users"
    ).click()
    visitor.get_by_label("Username, email or name").fill(username.upper())
    visitor.get_by_role("button", name="Search").click()
    results = visitor.locator("table.users tbody tr")
    expect(results).to_have_count(1)
    results.get_by_role("link", name=username).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(username)

    visitor.get_by_role("button", name="Disable and sign out").click()
    expect(visitor.locator(".notice")).to_contain_text("is disabled and was signed out everywhere")
    expect(visitor.locator("dd.status")).to_have_text("Disabled")

    their_browser.goto("/me")
    expect(their_browser).to_have_url(url_path(LOGIN_FLOW + r"\?next=/me"))
    assert not [error for error in errors if "Content Security Policy" in error], errors


def test_the_admin_is_readable_on_a_phone(new_context, javascript):
    page = new_context(java_script_enabled=javascript).new_page()
    page.set_viewport_size(PHONE)
    sign_in(page, "admin", PASSWORD, login_url="/login?next=/admin/users")
    expect(page).to_have_url(url_path("/admin/users$"))
    navigation = page.get_by_role("navigation", name="Administration")
    expect(navigation.get_by_role("link", name="Events")).to_be_in_viewport()
    for path in ("/admin/", "/admin/users", "/admin/events", "/admin/groups", "/admin/invitations"):
        page.goto(path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
