"""An application's sign-in in a real browser, JavaScript on and off: the authorization
request sends the visitor through sign-in, the consent page lists what the app receives, and
the browser lands on the app's redirect URI with a code and Gatehouse's issuer."""

import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.pages import enter_password, identify, stage
from tests.factories import PASSWORD
from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import authorize_url

pytestmark = pytest.mark.usefixtures("instance_is_set_up")


def at_consent(visitor, make_user, app):
    """An authorization request from the app, through sign-in, to the consent page."""
    username = make_user()
    client_id, _secret = make_client(app)
    visitor.route(
        "https://rp.example.test/**", lambda route: route.fulfill(status=200, body="the app")
    )
    visitor.goto(authorize_url(client_id, secrets.token_urlsafe(48)))
    identify(visitor, username)
    enter_password(visitor, PASSWORD)
    return stage(visitor, "consent")


def test_sign_in_consent_and_back_to_the_app(visitor, javascript, make_user, app):
    consent = at_consent(visitor, make_user, app)
    expect(consent).to_contain_text("RP asks to sign you in and will receive")
    expect(consent.locator("ul.permissions li")).to_have_count(3)
    if javascript:
        visitor.evaluate("window.__marker = 1")
    visitor.get_by_role("button", name="Allow").click()
    expect(visitor).to_have_url(re.compile("^" + re.escape(REDIRECT_URI) + r"\?"))
    answer = parse_qs(urlsplit(visitor.url).query)
    assert answer["state"] == ["s1"] and answer["code"]
    assert answer["iss"][0].endswith("/application/o/rp/")


def test_deny_at_consent_goes_back_to_the_app_with_access_denied(
    visitor, javascript, make_user, app
):
    consent = at_consent(visitor, make_user, app)
    expect(consent).to_contain_text("will receive")
    consent.get_by_role("button", name="Deny").click()
    expect(visitor).to_have_url(re.compile("^" + re.escape(REDIRECT_URI) + r"\?"))
    answer = parse_qs(urlsplit(visitor.url).query)
    assert answer["error"] == ["access_denied"] and answer["state"] == ["s1"]
    assert "code" not in answer
