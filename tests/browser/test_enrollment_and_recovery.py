"""Signing up and recovering a password through mailed links, in Chromium, JavaScript on and off.

The links are read from a real SMTP server on loopback, as a mail client would show them.
"""

import re

import pytest
from playwright.sync_api import Page, expect

from idp.stages.email.stage import ACCOUNT_EXISTS_SUBJECT
from tests.browser.pages import enter_password, identify, settled, stage, url_path
from tests.factories import PASSWORD
from tests.smtp_server import text_of

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

NEW_PASSWORD = "violet kettle marches north"


@pytest.fixture
def app(mailbox, app):
    """The shared app, made after the SMTP server so that it sends mail there."""
    return app


def press(page: Page, label: str) -> None:
    page.get_by_role("button", name=label).click()


def sign_up(visitor: Page, username: str, email: str) -> None:
    visitor.goto("/enroll")
    settled(visitor, "prompt")
    visitor.fill('input[name="username"]', username)
    visitor.fill('input[name="name"]', "New Bie")
    visitor.fill('input[name="email"]', email)
    visitor.fill('input[name="password"]', NEW_PASSWORD)
    visitor.fill('input[name="password_repeat"]', NEW_PASSWORD)
    press(visitor, "Continue")


def test_enrollment_through_the_mailed_link(visitor, javascript, mailbox):
    sign_up(visitor, "newbie", "newbie@example.test")

    expect(stage(visitor, "email")).to_contain_text("we sent a mail to newbie@example.test")
    mailbox.wait_for(1)
    if javascript:
        visitor.evaluate("window.__marker = 1")
    press(visitor, "Send again")
    expect(stage(visitor, "email")).to_contain_text("We sent another link.")
    if javascript:
        assert visitor.evaluate("window.__marker") == 1
    mailbox.wait_for(2)

    visitor.goto(mailbox.last_link())

    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.locator("dl.facts")).to_contain_text("newbie")
    expect(visitor.locator("dl.facts")).to_contain_text("newbie@example.test")


def test_signing_up_with_a_taken_address_mails_its_owner_a_way_in(
    visitor, javascript, mailbox, make_user
):
    owner = make_user(email="owner@example.test")
    sign_up(visitor, "newbie", "owner@example.test")

    # The page a new address gets: nothing tells the visitor the address has an account.
    expect(stage(visitor, "email")).to_contain_text("owner@example.test")
    (mail,) = mailbox.wait_for(1)
    assert mail["To"] == "owner@example.test"
    assert mail["Subject"] == ACCOUNT_EXISTS_SUBJECT

    # The owner follows the mail's sign-in link and signs in as before.
    visitor.goto(re.search(r"http\S+/login", text_of(mail)).group(0))
    settled(visitor, "identification")
    identify(visitor, owner)
    enter_password(visitor, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))


def test_recovery_finished_in_another_browser(visitor, new_context, javascript, mailbox, make_user):
    username = make_user(email="forgetful@example.test")
    visitor.goto("/login")
    visitor.get_by_role("link", name="Forgot your password?").click()
    expect(stage(visitor, "identification")).to_be_visible()
    visitor.fill('input[name="uid_field"]', "forgetful@example.test")
    press(visitor, "Continue")
    expect(stage(visitor, "email")).to_contain_text("f***@example.test")

    phone = new_context(java_script_enabled=javascript).new_page()
    phone.goto(mailbox.last_link())
    settled(phone, "prompt")
    phone.fill('input[name="password"]', NEW_PASSWORD)
    phone.fill('input[name="password_repeat"]', NEW_PASSWORD + " typo")
    press(phone, "Continue")
    expect(stage(phone, "prompt")).to_contain_text("The passwords do not match.")
    settled(phone, "prompt")
    phone.fill('input[name="password"]', NEW_PASSWORD)
    phone.fill('input[name="password_repeat"]', NEW_PASSWORD)
    press(phone, "Continue")
    expect(phone).to_have_url(url_path("/me$"))
    expect(phone.locator("dl.facts")).to_contain_text(username)

    # The first browser never got past the email page; the old password is gone.
    visitor.goto("/login")
    settled(visitor, "identification")
    identify(visitor, username)
    enter_password(visitor, PASSWORD)
    expect(visitor.get_by_text("Invalid username or password.")).to_be_visible()
    enter_password(visitor, NEW_PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))


def test_a_used_link_shows_a_clear_page(visitor, mailbox, make_user):
    make_user(username="twice", email="twice@example.test")
    visitor.goto("/recover")
    visitor.fill('input[name="uid_field"]', "twice")
    press(visitor, "Continue")
    link = mailbox.last_link()
    visitor.goto(link)
    expect(stage(visitor, "prompt")).to_be_visible()

    visitor.goto(link)
    expect(visitor.get_by_role("heading", level=1)).to_have_text("This link cannot be used")
    visitor.get_by_role("link", name="Start again").click()
    expect(stage(visitor, "identification")).to_be_visible()
