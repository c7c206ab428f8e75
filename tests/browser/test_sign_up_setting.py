"""Sign-up is off on a fresh install and opens once an administrator turns it on
(`idp settings set enrollment on`), JavaScript off."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import AT_ANY_STEP, LOGIN_FLOW, stage, url_path

pytestmark = pytest.mark.usefixtures("instance_is_set_up")


@pytest.fixture
def stored_settings():
    return {}  # a fresh install: sign-up at its default, off


def test_the_sign_in_page_offers_sign_up_only_once_it_is_turned_on(app, page_without_js):
    visitor = page_without_js
    visitor.goto("/login")
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + AT_ANY_STEP))
    expect(stage(visitor, "identification")).to_be_visible()
    expect(visitor.get_by_role("link", name="Forgot your password?")).to_be_visible()
    expect(visitor.get_by_role("link", name="Create an account")).to_have_count(0)
    visitor.goto("/enroll")
    expect(visitor.locator("main")).to_contain_text("Sign-up is closed on this site.")

    result = app.test_cli_runner().invoke(args=["settings", "set", "enrollment", "on"])
    assert result.exit_code == 0, result.output

    visitor.goto("/login")
    visitor.get_by_role("link", name="Create an account").click()
    expect(visitor).to_have_url(url_path("/flow/default-enrollment-flow/" + AT_ANY_STEP))
    expect(stage(visitor, "prompt")).to_be_visible()
    expect(visitor.locator('input[name="username"]')).to_be_visible()
