"""The README's pictures of the admin, taken from a real flow: the Stage Bindings tab with a
binding opened, the binding dialog, and the simulator's answer. Each checks what it shows."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.pages import sign_in, url_path
from tests.factories import PASSWORD, make_flow, make_group
from tests.factories import make_user as create_user

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

DOCS = Path(__file__).resolve().parents[2] / "docs"
SLUG = "staff-sign-in"
DESKTOP = {"width": 1100, "height": 800}


@pytest.fixture
def admin(app, new_context):
    with app.app_context():
        staff = make_group("staff")
        create_user("mia", groups=[staff])
        create_user("otto")
        make_flow(
            [
                {"stage": "default-authentication-identification", "order": 10},
                {"stage": "default-authentication-password", "order": 20},
                {
                    "define": {
                        "name": "staff-only",
                        "type": "deny",
                        "options": {"message": "This sign-in is for staff only."},
                    },
                    "order": 30,
                    "evaluate_on_plan": False,
                    "re_evaluate_policies": True,
                    "policies": [{"group": "staff", "negate": True}],
                },
                {"stage": "default-authentication-login", "order": 100},
            ],
            slug=SLUG,
            name="Staff sign-in",
            designation="authentication",
        )
    page = new_context(java_script_enabled=True).new_page()
    page.set_viewport_size(DESKTOP)
    sign_in(page, "admin", PASSWORD, login_url=f"/login?next=/admin/flows/{SLUG}/stages")
    expect(page).to_have_url(url_path(f"/admin/flows/{SLUG}/stages$"))
    return page


def still_picture(page, name: str) -> None:
    page.mouse.move(0, 0)
    page.evaluate("document.activeElement && document.activeElement.blur()")
    path = DOCS / name
    page.screenshot(path=path, full_page=True, animations="disabled")
    assert path.stat().st_size > 0


def gated_binding(page):
    return page.locator("li.stage-binding", has_text="staff-only")


def test_the_stage_bindings_tab(admin):
    binding = gated_binding(admin)
    binding.locator("summary").click()
    expect(binding).to_contain_text("not group staff")
    expect(binding.get_by_role("link", name="Bind existing policy/group/user")).to_be_visible()
    still_picture(admin, "screenshot-admin-flow.png")


def test_the_binding_dialog(admin):
    binding = gated_binding(admin)
    binding.locator("summary").click()
    binding.get_by_role("link", name="Bind existing policy/group/user").click()
    dialog = binding.locator(".dialog-slot")
    expect(dialog.get_by_role("link", name="Group")).to_be_visible()
    expect(dialog.get_by_label("Order")).to_be_visible()
    still_picture(admin, "screenshot-admin-binding.png")


def test_the_simulator(admin):
    admin.goto(f"/admin/flows/{SLUG}/simulate?user=otto&arrival=named_in_flow&ip=")
    expect(admin.locator("li.forecast", has_text="staff-only")).to_contain_text(
        "Decided just before the stage"
    )
    expect(admin.locator("ol.running")).to_contain_text("staff-only")
    still_picture(admin, "screenshot-admin-simulate.png")
