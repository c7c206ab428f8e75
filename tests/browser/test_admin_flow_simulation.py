"""The flow page's Diagram and Simulate tabs in a browser, JavaScript on and off, on a desktop
and on a phone: the picture is drawn, and a chosen user's plan is foretold."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import sign_in, url_path
from tests.factories import PASSWORD, make_flow, make_group
from tests.factories import make_user as create_user

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

PHONE = {"width": 375, "height": 740}


def prompt(name: str) -> dict:
    field = {"key": "answer", "label": f"Field of {name}"}
    return {"name": name, "type": "prompt", "options": {"fields": [field]}}


@pytest.fixture
def staff_flow(app) -> str:
    with app.app_context():
        staff = make_group("staff")
        create_user("member", groups=[staff])
        return make_flow(
            [
                {"define": prompt("everyone")},
                {
                    "define": prompt("staff-only"),
                    "policies": [{"group": "staff"}],
                    "evaluate_on_plan": True,
                    "re_evaluate_policies": False,
                },
            ],
            slug="staff-flow",
            name="Staff flow",
        )


@pytest.fixture
def admin_page(new_context, javascript, staff_flow):
    page = new_context(java_script_enabled=javascript).new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text))
    sign_in(page, "admin", PASSWORD, login_url=f"/login?next=/admin/flows/{staff_flow}/")
    expect(page).to_have_url(url_path(f"/admin/flows/{staff_flow}/$"))
    yield page
    assert not [error for error in errors if "Content Security Policy" in error], errors


def flow_tab(page, name: str) -> None:
    page.get_by_role("navigation", name="Flow").get_by_role("link", name=name).click()


def test_the_simulate_tab_foretells_a_members_plan(admin_page):
    flow_tab(admin_page, "Simulate")
    admin_page.get_by_label("User (empty: an anonymous visitor)").fill("member")
    admin_page.get_by_label("How they come to the flow").select_option(
        label="Signed in when the flow starts"
    )
    admin_page.get_by_role("button", name="Simulate").click()
    expect(admin_page).to_have_url(
        url_path(r"/admin/flows/staff-flow/simulate\?user=member&arrival=signed_in&ip=$")
    )
    expect(admin_page.get_by_role("heading", name="For member")).to_be_visible()
    expect(admin_page.locator(".verdict")).to_contain_text("Allowed: the flow starts.")
    staff_step = admin_page.locator("li.forecast", has_text="staff-only")
    expect(staff_step).to_contain_text("Decided when the plan is made")
    expect(staff_step.locator("table.verdicts")).to_contain_text("group staff")
    expect(staff_step.locator("table.verdicts")).to_contain_text("Passing")
    expect(admin_page.locator("ol.running li")).to_have_text(
        ["everyone (prompt)", "staff-only (prompt)"]
    )

    admin_page.get_by_label("User (empty: an anonymous visitor)").fill("nobody")
    admin_page.get_by_role("button", name="Simulate").click()
    expect(admin_page.locator("#user-errors")).to_have_text("There is no user with this username.")


def test_the_diagram_tab_draws_the_flow(admin_page):
    flow_tab(admin_page, "Diagram")
    drawing = admin_page.locator("figure.flow-diagram svg")
    expect(drawing).to_be_visible()
    expect(drawing.locator("text", has_text="20 · staff-only (prompt)")).to_have_count(1)
    expect(admin_page.locator("ol.diagram-words")).to_contain_text("Checked when the flow starts")


def test_both_tabs_fit_a_phone(admin_page, staff_flow):
    admin_page.set_viewport_size(PHONE)
    for path in ("diagram", "simulate?user=member&ip="):
        admin_page.goto(f"/admin/flows/{staff_flow}/{path}")
        overflow = admin_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, path
    drawing = admin_page.locator("figure.flow-diagram svg")
    admin_page.goto(f"/admin/flows/{staff_flow}/diagram")
    assert drawing.bounding_box()["width"] <= PHONE["width"]
