"""Clear words in a browser, JavaScript on and off: recovery codes saved three ways, an
authenticator removed after a confirmation, success notices on the next page."""

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from idp.core.extensions import db
from idp.credentials import authenticators
from idp.models import User
from tests import factories
from tests.browser.pages import sign_in, stage, url_path
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")


def signed_in(visitor, username):
    sign_in(visitor, username, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))


def test_recovery_codes_can_be_downloaded_copied_and_printed(visitor, javascript, make_user):
    signed_in(visitor, make_user())
    if javascript:
        visitor.context.grant_permissions(["clipboard-read", "clipboard-write"])
    visitor.get_by_role("link", name="Create recovery codes").click()
    expect(stage(visitor, "authenticator_static")).to_be_visible()
    codes = visitor.locator("ol.recovery-codes code").all_inner_texts()
    assert len(codes) == 10

    # A text file, JavaScript or not; the link holds only what the page shows.
    with visitor.expect_download() as download:
        visitor.get_by_role("link", name="Download as a text file").click()
    assert download.value.suggested_filename == "gatehouse-recovery-codes.txt"
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert all(code in saved.splitlines() for code in codes)

    copy = visitor.get_by_role("button", name="Copy")
    print_button = visitor.get_by_role("button", name="Print")
    if javascript:
        copy.click()
        expect(visitor.get_by_text("Copied.")).to_be_visible()
        assert visitor.evaluate("navigator.clipboard.readText()").split("\n") == codes
        expect(print_button).to_be_visible()
    else:
        expect(copy).to_be_hidden()
        expect(print_button).to_be_hidden()

    # Printed: the codes, not the buttons and forms around them.
    visitor.emulate_media(media="print")
    expect(visitor.locator("ol.recovery-codes")).to_be_visible()
    expect(visitor.get_by_role("button", name="I have saved them")).to_be_hidden()
    expect(visitor.locator("header.site")).to_be_hidden()
    visitor.emulate_media(media="screen")

    visitor.get_by_role("button", name="I have saved them").click()
    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.get_by_role("status")).to_contain_text("Your recovery codes are ready.")


def test_a_download_link_is_the_codes_themselves_not_an_address_to_fetch_again(
    page_without_js, make_user
):
    signed_in(page_without_js, make_user())
    page_without_js.get_by_role("link", name="Create recovery codes").click()
    codes = page_without_js.locator("ol.recovery-codes code").all_inner_texts()
    link = page_without_js.get_by_role("link", name="Download as a text file")
    href = link.get_attribute("href")
    assert href.startswith("data:text/plain")
    assert all(code in unquote(href) for code in codes)


def give_recovery_codes(app, username) -> None:
    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        authenticators.replace_recovery_codes(user, 3)
        db.session.commit()


def test_removing_an_authenticator_asks_for_the_password_in_a_confirmation(
    visitor, javascript, app, make_user
):
    username = make_user()
    signed_in(visitor, username)
    give_recovery_codes(app, username)  # after signing in, which would ask for one
    visitor.reload()
    item = visitor.locator("ul.authenticators li", has_text="Recovery codes")
    # No password field waits on the page (the dialog holding one is closed).
    expect(item.locator('input[name="password"]')).to_be_hidden()

    item.get_by_role("link", name="Remove…").click()
    if javascript:
        dialog = visitor.get_by_role("dialog")
        expect(dialog).to_be_visible()
        expect(visitor).to_have_url(url_path("/me$"))
        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        item.get_by_role("link", name="Remove…").click()
        place = dialog
    else:
        expect(visitor).to_have_url(url_path("/me/authenticators/recovery_codes/0/remove$"))
        place = visitor
    expect(place.get_by_label("Your password")).to_be_focused()
    place.get_by_label("Your password").fill("not the password")
    place.get_by_role("button", name="Remove Recovery codes").click()

    # A wrong password: the confirmation page says so, and nothing was removed.
    expect(visitor.get_by_text("That password is not right.")).to_be_visible()
    visitor.get_by_label("Your password").fill(PASSWORD)
    visitor.get_by_role("button", name="Remove Recovery codes").click()
    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.get_by_role("status")).to_have_text("Recovery codes was removed.")
    expect(visitor.locator("ul.authenticators")).to_have_count(0)


# -- the browser's Back ----------------------------------------------------------------------


def prompt_stage(name: str, key: str, label: str) -> dict:
    fields = [{"key": key, "label": label, "type": "text", "required": True}]
    return {"define": {"name": name, "type": "prompt", "options": {"fields": fields}}}


@pytest.fixture
def three_steps(app):
    with app.app_context():
        return factories.make_flow(
            [
                prompt_stage("back-first", "first", "First answer"),
                prompt_stage("back-second", "second", "Second answer"),
                prompt_stage("back-third", "third", "Third answer"),
            ],
            designation="enrollment",
        )


def answer(visitor, label: str, value: str) -> None:
    field = visitor.get_by_label(label)
    expect(field).to_be_focused()
    field.fill(value)
    visitor.get_by_role("button", name="Continue").click()


def test_back_returns_to_the_previous_step_and_the_flow_goes_on(visitor, javascript, three_steps):
    visitor.goto(f"/flow/{three_steps}/?next=/me")
    answer(visitor, "First answer", "one")
    expect(visitor.get_by_label("Second answer")).to_be_visible()
    answer(visitor, "Second answer", "two")
    expect(visitor.get_by_label("Third answer")).to_be_visible()
    if javascript:
        visitor.evaluate("window.__marker = 1")

    visitor.go_back()
    expect(visitor.get_by_label("Second answer")).to_be_visible()
    if javascript:
        # htmx asked the server for the step again; the page was not reloaded.
        assert visitor.evaluate("window.__marker") == 1
        visitor.go_back()
        expect(visitor.get_by_label("First answer")).to_be_visible()
        answer(visitor, "First answer", "uno")
    answer(visitor, "Second answer", "dos")
    answer(visitor, "Third answer", "tres")
    # The flow ran to its end (no one is signed in, so /me sends on to sign in).
    expect(visitor).not_to_have_url(re.compile(rf"/flow/{three_steps}/"))


def test_with_javascript_back_from_the_password_returns_to_the_warning(page_with_js, make_user):
    page = page_with_js
    signed_in(page, make_user())
    page.get_by_role("link", name="Delete your account").click()
    expect(stage(page, "prompt")).to_contain_text("cannot be undone")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Delete my account")).to_be_visible()

    page.go_back()
    expect(stage(page, "prompt")).to_contain_text("cannot be undone")
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_role("status")).to_contain_text("Your account was deleted.")


DEFERRED_SCRIPTS = re.compile(r"/static/(htmx[^/]*|gatehouse|webauthn)\.js$")


def test_back_returns_to_the_warning_when_the_deferred_scripts_have_not_run(
    page_with_js, make_user
):
    """A quick answer on a slow connection: htmx and gatehouse.js have not run when Continue
    is pressed (here they never arrive), so the form is posted plainly. The page's head had
    named the step in the address already, so Back still returns to the warning."""
    page = page_with_js
    signed_in(page, make_user())
    page.route(DEFERRED_SCRIPTS, lambda route: route.abort())
    page.get_by_role("link", name="Delete your account").click()
    expect(stage(page, "prompt")).to_contain_text("cannot be undone")
    expect(page).to_have_url(re.compile(r"[?&]step=\d+"))
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("button", name="Delete my account")).to_be_visible()

    page.go_back()
    expect(stage(page, "prompt")).to_contain_text("cannot be undone")


# -- forms with a new password ---------------------------------------------------------------

NEW_PASSWORD = "violet kettle marches north"


def test_sign_up_shows_the_rules_first_and_keeps_the_passwords_when_the_name_is_taken(
    visitor, javascript
):
    visitor.goto("/enroll")
    expect(stage(visitor, "prompt")).to_be_visible()
    rules = visitor.locator("#password-rules")
    expect(rules).to_contain_text("At least 8 characters")
    expect(visitor.get_by_label("Password", exact=True)).to_have_accessible_description(
        re.compile("At least 8 characters")
    )

    visitor.fill('input[name="username"]', "admin")  # taken
    visitor.fill('input[name="email"]', "newbie@example.test")
    visitor.fill('input[name="password"]', NEW_PASSWORD)
    visitor.fill('input[name="password_repeat"]', NEW_PASSWORD)
    visitor.get_by_role("button", name="Continue").click()

    expect(visitor.locator("#username-errors")).to_be_visible()
    expect(visitor.locator('input[name="password"]')).to_have_value(NEW_PASSWORD)
    expect(visitor.locator('input[name="password_repeat"]')).to_have_value(NEW_PASSWORD)
    visitor.fill('input[name="username"]', "newbie")
    visitor.get_by_role("button", name="Continue").click()
    expect(stage(visitor, "email")).to_contain_text("newbie@example.test")
