"""Create a stage as the seeds describe it, JavaScript on and off: Stages → Create → choose
the type → that type's settings form → Finish, then find it in the list."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import LOGIN_FLOW, enter_password, identify, url_path
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")


def test_an_administrator_creates_a_deny_stage_in_two_steps(visitor):
    visitor.goto("/admin/")
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + r"\?next=/admin/"))
    identify(visitor, "admin")
    enter_password(visitor, PASSWORD)
    expect(visitor).to_have_url(url_path("/admin/$"))

    navigation = visitor.get_by_role("navigation", name="Administration")
    navigation.get_by_role("link", name="Stages").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Stages")
    visitor.get_by_role("link", name="Create", exact=True).click()
    expect(visitor.get_by_role("heading", level=1)).to_contain_text("choose the type")
    visitor.get_by_role("link", name="Deny", exact=True).click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Create a stage: Deny")

    visitor.get_by_label("Name").fill("closed-for-repairs")
    message = visitor.get_by_label("Message")
    expect(message).to_have_value("You may not continue.")
    message.fill("Come back tomorrow.")
    visitor.get_by_role("button", name="Finish").click()

    expect(visitor).to_have_url(url_path("/admin/stages$"))
    expect(visitor.locator(".notice")).to_contain_text("The stage closed-for-repairs was created")
    deny_section = visitor.locator("section.stage-type", has_text="Deny")
    deny_section.get_by_role("link", name="closed-for-repairs").click()
    expect(visitor.get_by_label("Message")).to_have_value("Come back tomorrow.")
