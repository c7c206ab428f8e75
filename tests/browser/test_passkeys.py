"""Passkeys in a real browser: Chromium's virtual authenticator (a CDP session) answers
navigator.credentials by itself. Set one up, sign in with it as a second factor and without a
password, remove it; without JavaScript the stage says so and offers a way on."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Stage, WebAuthnDevice
from tests.browser.pages import stage
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

SETUP = "/flow/default-authenticator-webauthn-setup/?next=/me"


@pytest.fixture
def base_url(app, live_server):
    # A relying-party id must be a domain name: localhost, not 127.0.0.1.
    url = live_server.url.replace("127.0.0.1", "localhost")
    app.config.update(WEBAUTHN_RP_ID="localhost", WEBAUTHN_ORIGIN=url)
    return url


def at(path: str) -> re.Pattern:
    return re.compile(r"^http://localhost:\d+" + path)


def virtual_authenticator(context, page) -> tuple:
    session = context.new_cdp_session(page)
    session.send("WebAuthn.enable")
    added = session.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return session, added["authenticatorId"]


def sign_in_with_password(page, username):
    page.goto("/login")
    expect(stage(page, "identification")).to_be_visible()
    page.fill('input[name="uid_field"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page):
    page.get_by_role("link", name="Sign out").first.click()
    expect(stage(page, "identification")).to_be_visible()


def test_a_passkey_is_set_up_used_twice_and_removed(app, new_context, make_user):
    username = make_user()
    context = new_context(java_script_enabled=True)
    page = context.new_page()
    session, authenticator_id = virtual_authenticator(context, page)
    blocked = []
    page.on("console", lambda message: blocked.append(message.text))

    sign_in_with_password(page, username)
    expect(page).to_have_url(at("/me$"))
    page.get_by_role("link", name="Set up a passkey or security key").click()
    expect(stage(page, "authenticator_webauthn")).to_be_visible()
    page.fill('input[name="name"]', "Virtual key")
    page.get_by_role("button", name="Set up the passkey").click()
    expect(page.locator("ul.authenticators")).to_contain_text("Virtual key")
    credentials = session.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1
    assert credentials["credentials"][0]["isResidentCredential"]

    # A second factor after the password.
    sign_out(page)
    sign_in_with_password(page, username)
    expect(stage(page, "authenticator_validate")).to_be_visible()
    page.evaluate("window.__marker = 1")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_role("link", name="Sign out").first).to_be_visible()
    assert page.evaluate("window.__marker") is None  # a full page load: the flow ended

    # Without a password: the identification stage offers the passkey.
    sign_out(page)
    with app.app_context():
        identification = db.session.scalar(
            select(Stage).where(Stage.name == "default-authentication-identification")
        )
        identification.options = {**identification.options, "passkey_login": True}
        db.session.commit()
    # Passkey autofill (conditional mediation): the virtual authenticator, which needs no
    # touch, answers the waiting request as soon as the page has loaded (so soon that the
    # page may not have finished loading).
    page.goto("/login", wait_until="commit")
    expect(page.get_by_role("link", name="Sign out").first).to_be_visible()
    # A browser without autofill: the button. (With it, the virtual authenticator would sign
    # in again on the page that signing out leads to.)
    context.add_init_script("delete PublicKeyCredential.isConditionalMediationAvailable;")
    sign_out(page)
    page.goto("/login")
    expect(stage(page, "identification")).to_be_visible()
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_role("link", name="Sign out").first).to_be_visible()
    with app.app_context():
        [device] = db.session.scalars(select(WebAuthnDevice))
        assert device.sign_count >= 3 and device.last_used_at is not None

    # Removed from the account page, with the password.
    page.goto("/me")
    item = page.locator("ul.authenticators li", has_text="Virtual key")
    item.locator('input[name="password"]').fill(PASSWORD)
    item.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("The authenticator was removed.")).to_be_visible()
    expect(page.locator("ul.authenticators li", has_text="Virtual key")).to_have_count(0)
    assert not [text for text in blocked if "Security Policy" in text]


def test_without_javascript_the_setup_says_passkeys_need_it(new_context, make_user):
    username = make_user()
    page = new_context(java_script_enabled=False).new_page()
    sign_in_with_password(page, username)
    page.goto(SETUP)
    expect(stage(page, "authenticator_webauthn")).to_be_visible()
    expect(page.get_by_text("Setting up a passkey needs JavaScript")).to_be_visible()
    expect(page.get_by_role("button", name="Set up the passkey")).to_be_hidden()
    page.get_by_role("link", name="Back to your account").click()
    expect(page).to_have_url(at("/me$"))
