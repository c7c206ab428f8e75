"""The seeds' procedures on the flow pages, in a browser with JavaScript on and off: bind an
existing stage, then bind a group to that stage binding, and check by signing in that the step
stops the group's members and no one else."""

import pytest
from playwright.sync_api import expect

from idp.core.extensions import db
from idp.models import Stage
from tests.browser.pages import sign_in, stage, url_path
from tests.factories import PASSWORD, make_flow, make_group
from tests.factories import make_user as create_user

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

STOP = "Members stop here."
STEPS = [
    {"stage": "default-authentication-identification", "order": 10},
    {"stage": "default-authentication-password", "order": 20},
    {"stage": "default-authentication-login", "order": 100},
]


@pytest.fixture
def gate_flow(app) -> str:
    with app.app_context():
        staff = make_group("staff")
        create_user("member", groups=[staff])
        create_user("outsider")
        db.session.add(Stage(name="members-stop", type="deny", options={"message": STOP}))
        db.session.commit()
        return make_flow(STEPS, slug="gate-test", name="Gate test")


def bind_existing_stage(page) -> None:
    """Flows → the flow's name → Stage Bindings → Bind existing stage."""
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Flows").click()
    page.get_by_role("link", name="Gate test").click()
    page.get_by_role("navigation", name="Flow").get_by_role("link", name="Stage Bindings").click()
    page.get_by_role("link", name="Bind existing stage").click()
    page.get_by_label("Stage", exact=True).select_option(label="members-stop (deny)")
    page.get_by_label("Order").fill("30")
    expect(page.get_by_label("Check its policies again just before this step")).to_be_checked()
    page.get_by_label("When an answer is invalid").select_option("retry")
    page.get_by_role("button", name="Bind").click()
    expect(page.locator(".notice")).to_contain_text("The stage members-stop was bound.")


def bind_group_to_the_binding(page) -> None:
    """Expand the binding (the caret) → Bind existing policy/group/user → Group → Create."""
    binding = page.locator("li.stage-binding", has_text="members-stop")
    link = binding.get_by_role("link", name="Bind existing policy/group/user")
    expect(link).to_be_hidden()
    binding.locator("summary").click()
    link.click()
    expect(page.get_by_role("heading", name="Create Binding")).to_be_visible()
    page.get_by_role("navigation", name="What to bind").get_by_role("link", name="Group").click()
    page.get_by_label("Group").select_option(label="staff")
    page.get_by_label("Order").fill("0")
    expect(page.get_by_label("Enabled")).to_be_checked()
    page.get_by_label("Timeout in seconds").fill("30")
    page.get_by_role("button", name="Create").click()
    expect(page.locator(".notice")).to_contain_text("The group staff was bound.")
    binding = page.locator("li.stage-binding", has_text="members-stop")
    expect(binding.locator("summary")).to_contain_text(
        "Checked just before this step, with the user known by then"
    )
    expect(binding.locator("summary")).to_contain_text("group staff")


def test_a_group_bound_to_a_stage_binding_stops_only_its_members(
    visitor, new_context, javascript, gate_flow
):
    sign_in(visitor, "admin", PASSWORD, login_url="/login?next=/admin/")
    expect(visitor).to_have_url(url_path("/admin/$"))
    bind_existing_stage(visitor)
    bind_group_to_the_binding(visitor)

    member = new_context(java_script_enabled=javascript).new_page()
    sign_in(member, "member", PASSWORD, login_url=f"/flow/{gate_flow}/")
    expect(stage(member, "message")).to_contain_text(STOP)

    outsider = new_context(java_script_enabled=javascript).new_page()
    sign_in(outsider, "outsider", PASSWORD, login_url=f"/flow/{gate_flow}/")
    expect(outsider).to_have_url(url_path("/me$"))
