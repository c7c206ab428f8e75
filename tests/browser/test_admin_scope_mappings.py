"""Scope mappings in a browser, JavaScript on and off: an administrator defines a scope (a bad
expression is refused with a message), offers it in an application's provider settings, and
the claims preview shows what it gives; a user then sees its words on the consent page."""

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.pages import enter_password, identify, sign_in, stage, url_path
from tests.factories import PASSWORD
from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import authorize_url

pytestmark = pytest.mark.usefixtures("instance_is_set_up")


def test_an_administrator_defines_and_offers_a_scope(visitor, new_context, javascript, app):
    client_id, _secret = make_client(app, slug="cloud")
    sign_in(visitor, "admin", PASSWORD, login_url="/login?next=/admin/")
    expect(visitor).to_have_url(url_path("/admin/$"))
    navigation = visitor.get_by_role("navigation", name="Administration")
    navigation.get_by_role("link", name="Scope mappings").click()
    visitor.get_by_role("link", name="Create a scope mapping").click()
    visitor.get_by_label("Scope", exact=True).fill("nextcloud")
    visitor.get_by_label("Description").fill("Your storage quota")
    visitor.get_by_label("Expression").fill('{"quota": user.attributes.get("quota", "1 GB"}')
    visitor.get_by_role("button", name="Create").click()
    expect(visitor.locator(".field.invalid")).to_contain_text("is not a valid expression")
    visitor.get_by_label("Expression").fill('{"quota": user.attributes.get("quota", "1 GB")}')
    visitor.get_by_role("button", name="Create").click()
    expect(visitor).to_have_url(url_path("/admin/scope-mappings$"))
    expect(visitor.locator("table.scope-mappings")).to_contain_text("no application yet")

    visitor.goto("/admin/applications/cloud/edit")
    visitor.get_by_label("nextcloud: Your storage quota").check()
    visitor.get_by_role("button", name="Save").click()
    expect(visitor).to_have_url(url_path("/admin/applications/cloud$"))
    visitor.goto("/admin/applications/cloud/preview?username=admin")
    expect(visitor.locator("pre.claims")).to_contain_text('"quota": "1 GB"')

    user_page = new_context(java_script_enabled=javascript).new_page()
    user_page.goto(authorize_url(client_id, secrets.token_urlsafe(48), scope="openid nextcloud"))
    identify(user_page, "admin")
    enter_password(user_page, PASSWORD)
    consent = stage(user_page, "consent")
    expect(consent.locator("ul.permissions")).to_contain_text("Your storage quota")
