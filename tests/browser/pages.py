"""What a visitor does on the sign-in pages, in a browser: fill a field, press the button, wait
for the next stage (swapped in by HTMX with JavaScript on, a new page without)."""

import re

from playwright.sync_api import Page, expect

LOGIN_FLOW = "/flow/default-authentication-flow/"
# A flow page's address, at whichever step (each stage page has its own: ?step=<binding id>).
AT_ANY_STEP = r"(\?step=\d+)?$"
INVALID = "Invalid username or password."


def stage(page: Page, name: str):
    """The #stage fragment showing the named stage type (or 'message')."""
    return page.locator(f'#stage[data-stage="{name}"]')


def url_path(pattern: str) -> re.Pattern:
    """The page's address is on this site and its path (and query) match `pattern`."""
    return re.compile(r"^http://127\.0\.0\.1:\d+" + pattern)


def settled(page: Page, name: str):
    """The stage is shown and has settled: its autofocus field has the focus. Type only then,
    or the late autofocus (htmx's after a swap, the browser's after a load) moves the caret
    into the first field while a later one is being filled."""
    fragment = stage(page, name)
    expect(fragment).to_be_visible()
    _wait_for_autofocus(fragment)
    return fragment


def _wait_for_autofocus(fragment) -> None:
    autofocus = fragment.locator("[autofocus]")
    if autofocus.count():
        expect(autofocus.first).to_be_focused()


def identify(page: Page, uid: str) -> None:
    """Type the name; on a page that also asks for the password (the shipped sign-in), the
    password is typed next by enter_password, else Continue leads to the password stage."""
    fragment = settled(page, "identification")
    page.fill('input[name="uid_field"]', uid)
    if fragment.locator('input[name="password"]').count():
        return
    page.get_by_role("button", name="Continue").click()
    expect(stage(page, "password")).to_be_visible()


def enter_password(page: Page, password: str) -> None:
    field = page.locator('#stage input[name="password"]')
    expect(field).to_be_visible()
    if page.locator("#stage [autofocus]").count():
        # The stage's late autofocus has happened once the focus is somewhere in it (there,
        # or in the name field typed into just before).
        # (A locator, not wait_for_function: the pages' CSP forbids the eval that needs.)
        expect(page.locator("#stage :focus")).to_have_count(1)
    field.fill(password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, username: str, password: str, login_url: str = "/login") -> None:
    """From /login to the end of the flow (wherever it sends the visitor)."""
    page.goto(login_url)
    identify(page, username)
    enter_password(page, password)
