"""The seeds' other procedures, in a browser with JavaScript on and off, each checked by signing
in as a user afterwards: create a stage and bind it to a flow, create and bind a stage in one
step, and bind a group to the flow itself (who may use it)."""

import pytest
from playwright.sync_api import expect

from idp.core.extensions import db
from idp.models import Stage
from tests.browser.pages import sign_in, stage, url_path
from tests.factories import PASSWORD, make_flow, make_group
from tests.factories import make_user as create_user

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

STEPS = [
    {"stage": "default-authentication-identification", "order": 10},
    {"stage": "default-authentication-password", "order": 20},
    {"stage": "default-authentication-login", "order": 100},
]
CLOSED = "Closed for repairs."


@pytest.fixture
def gate_flow(app) -> str:
    with app.app_context():
        create_user("outsider")
        return make_flow(STEPS, slug="gate-test", name="Gate test")


def open_admin(page) -> None:
    sign_in(page, "admin", PASSWORD, login_url="/login?next=/admin/")
    expect(page).to_have_url(url_path("/admin/$"))


def open_flow_tab(page, flow_name: str, tab: str) -> None:
    """Flows → the flow's name → the tab."""
    page.get_by_role("navigation", name="Administration").get_by_role("link", name="Flows").click()
    page.get_by_role("link", name=flow_name).click()
    page.get_by_role("navigation", name="Flow").get_by_role("link", name=tab).click()
    expect(page.get_by_role("navigation", name="Flow").locator("[aria-current=page]")).to_have_text(
        tab
    )


def binding_settings(page, order: str) -> None:
    """The binding's fields: order, when its policies are checked, engine mode, invalid
    answers."""
    page.get_by_label("Order").fill(order)
    expect(page.get_by_label("Check its policies when the flow starts")).not_to_be_checked()
    expect(page.get_by_label("Check its policies again just before this step")).to_be_checked()
    page.get_by_label("Its policy bindings").select_option("any")
    page.get_by_label("When an answer is invalid").select_option("retry")


def stops_at_the_closed_stage(new_context, javascript, flow_slug: str) -> None:
    outsider = new_context(java_script_enabled=javascript).new_page()
    sign_in(outsider, "outsider", PASSWORD, login_url=f"/flow/{flow_slug}/")
    expect(stage(outsider, "message")).to_contain_text(CLOSED)
    expect(outsider.get_by_role("link", name="Sign out")).to_have_count(0)


def test_a_stage_created_then_bound_to_a_flow_runs_when_users_sign_in(
    visitor, new_context, javascript, gate_flow
):
    open_admin(visitor)
    # Create a stage: Stages → Create → the type → its settings → Finish.
    visitor.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Stages"
    ).click()
    visitor.get_by_role("link", name="Create", exact=True).click()
    visitor.get_by_role("link", name="Deny", exact=True).click()
    visitor.get_by_label("Name").fill("closed")
    visitor.get_by_label("Message").fill(CLOSED)
    visitor.get_by_role("button", name="Finish").click()
    expect(visitor.locator(".notice")).to_contain_text("The stage closed was created")
    # Bind a stage to a flow: Flows → the flow → Stage Bindings → Bind existing stage.
    open_flow_tab(visitor, "Gate test", "Stage Bindings")
    visitor.get_by_role("link", name="Bind existing stage").click()
    visitor.get_by_label("Stage", exact=True).select_option(label="closed (deny)")
    binding_settings(visitor, "30")
    visitor.get_by_role("button", name="Bind").click()
    expect(visitor.locator(".notice")).to_contain_text("The stage closed was bound.")
    summary = visitor.locator("li.stage-binding", has_text="closed").locator("summary")
    expect(summary).to_contain_text("order 30")
    expect(summary).to_contain_text("Always runs")

    stops_at_the_closed_stage(new_context, javascript, gate_flow)


def test_create_and_bind_stage_in_one_step_runs_when_users_sign_in(
    visitor, new_context, javascript, gate_flow
):
    open_admin(visitor)
    open_flow_tab(visitor, "Gate test", "Stage Bindings")
    visitor.get_by_role("link", name="Create and bind stage").click()
    visitor.get_by_role("link", name="Deny", exact=True).click()
    expect(visitor.get_by_role("heading", level=2)).to_have_text("Create and bind stage: Deny")
    visitor.get_by_label("Name").fill("default-authentication-password")
    visitor.get_by_label("Message").fill(CLOSED)
    binding_settings(visitor, "30")
    visitor.get_by_role("button", name="Finish").click()
    # Bad input: the message at its field, what was typed kept, nothing saved.
    expect(visitor.locator("#name-errors")).to_have_text("A stage with this name exists already.")
    expect(visitor.get_by_label("Message")).to_have_value(CLOSED)
    expect(visitor.get_by_label("Order")).to_have_value("30")
    visitor.get_by_label("Name").fill("closed")
    visitor.get_by_role("button", name="Finish").click()

    expect(visitor).to_have_url(url_path(f"/admin/flows/{gate_flow}/stages#binding-\\d+$"))
    expect(visitor.locator(".notice")).to_contain_text("The stage closed was created and bound.")
    summary = visitor.locator("li.stage-binding", has_text="closed").locator("summary")
    expect(summary).to_contain_text("order 30")

    stops_at_the_closed_stage(new_context, javascript, gate_flow)


@pytest.fixture
def staff_only_flow(app) -> str:
    with app.app_context():
        staff = make_group("staff")
        create_user("member", groups=[staff])
        welcome = Stage(name="welcome", type="deny", options={"message": "Hello, staff."})
        db.session.add(welcome)
        db.session.commit()
        return make_flow([{"stage": "welcome"}], slug="staff-only", name="Staff only")


def test_a_group_bound_to_the_flow_itself_decides_who_may_use_it(
    visitor, new_context, javascript, gate_flow, staff_only_flow
):
    open_admin(visitor)
    open_flow_tab(visitor, "Staff only", "Policy Bindings")
    visitor.get_by_role("link", name="Bind existing policy/group/user").click()
    expect(visitor.get_by_role("heading", name="Create Binding")).to_be_visible()
    expect(visitor.get_by_text("For who may use the flow.")).to_be_visible()
    visitor.get_by_role("navigation", name="What to bind").get_by_role("link", name="Group").click()
    visitor.get_by_label("Group").select_option(label="staff")
    visitor.get_by_label("Order").fill("0")
    expect(visitor.get_by_label("Enabled")).to_be_checked()
    visitor.get_by_role("button", name="Create").click()
    expect(visitor.locator(".notice")).to_contain_text("The group staff was bound.")
    expect(visitor.locator("main")).to_contain_text("group staff")

    for username, welcomed in (("member", True), ("outsider", False)):
        page = new_context(java_script_enabled=javascript).new_page()
        sign_in(page, username, PASSWORD)
        expect(page).to_have_url(url_path("/me$"))
        page.goto(f"/flow/{staff_only_flow}/")
        message = stage(page, "message")
        if welcomed:
            expect(message).to_contain_text("Hello, staff.")
        else:
            expect(message).not_to_contain_text("Hello, staff.")
            expect(message).to_contain_text("may not use this flow")


def test_with_javascript_the_binding_dialog_opens_in_place(page_with_js, new_context, app):
    with app.app_context():
        staff = make_group("staff")
        create_user("member", groups=[staff])
        create_user("outsider")
        db.session.add(Stage(name="closed", type="deny", options={"message": CLOSED}))
        db.session.commit()
        slug = make_flow([*STEPS[:2], {"stage": "closed", "order": 30}, STEPS[2]], slug="gate")
    page = page_with_js
    open_admin(page)
    page.goto(f"/admin/flows/{slug}/stages")
    page.evaluate("window.__marker = 1")
    binding = page.locator("li.stage-binding", has_text="closed")
    binding.locator("summary").click()
    binding.get_by_role("link", name="Bind existing policy/group/user").click()
    dialog = binding.locator(".binding-dialog")
    expect(dialog.get_by_role("heading", name="Create Binding")).to_be_visible()
    tabs = dialog.get_by_role("navigation", name="What to bind")
    tabs.get_by_role("link", name="User").click()
    dialog.get_by_label("Username").fill("nobody")
    dialog.get_by_role("button", name="Create").click()
    expect(dialog.locator("#user-errors")).to_have_text("There is no such user.")
    tabs.get_by_role("link", name="Group").click()
    # Opened, switched tabs and refused in place: the page was never reloaded.
    expect(dialog.get_by_label("Group")).to_be_visible()
    assert page.evaluate("window.__marker") == 1
    dialog.get_by_label("Group").select_option(label="staff")
    dialog.get_by_role("button", name="Create").click()
    expect(page.locator(".notice")).to_contain_text("The group staff was bound.")
    expect(binding.locator("summary")).to_contain_text("group staff")

    member = new_context(java_script_enabled=True).new_page()
    sign_in(member, "member", PASSWORD, login_url=f"/flow/{slug}/")
    expect(stage(member, "message")).to_contain_text(CLOSED)
    outsider = new_context(java_script_enabled=True).new_page()
    sign_in(outsider, "outsider", PASSWORD, login_url=f"/flow/{slug}/")
    expect(outsider).to_have_url(url_path("/me$"))
