"""The README's pictures of the admin, taken from a real flow: the Stage Bindings tab with a
binding opened, the binding dialog, and the simulator's answer. Each checks what it shows."""

import re
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


NORTHWIND_LOGO = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64"
height="64"><title>Northwind</title>
<rect x="4" y="4" width="56" height="56" rx="14" fill="#0b6e4f"/>
<path d="M18 46V18h6l16 18V18h6v28h-6L24 28v18z" fill="#ffffff"/>
</svg>"""


def brand_it(page, tmp_path) -> None:
    """Through the admin's Brand page, as an administrator would: name, colour, logo, links."""
    logo = tmp_path / "northwind.svg"
    logo.write_text(NORTHWIND_LOGO)
    page.goto("/admin/brand")
    page.get_by_label("Product name").fill("Northwind")
    page.get_by_label("Accent colour").fill("#0b6e4f")
    page.get_by_label("Upload a new logo").set_input_files(str(logo))
    page.get_by_label("Footer links").fill(
        "Privacy | https://northwind.example/privacy\nHelp | https://northwind.example/help"
    )
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("Brand saved.")
    expect(page.locator("header.site .brand")).to_contain_text("Northwind")


def test_a_branded_sign_in_page(admin, new_context, tmp_path):
    brand_it(admin, tmp_path)
    still_picture(admin, "screenshot-admin-brand.png")
    visitor = new_context(java_script_enabled=True).new_page()
    visitor.set_viewport_size({"width": 900, "height": 640})
    visitor.goto("/login")
    expect(visitor.get_by_role("heading", level=1)).to_have_text("Sign in to Northwind")
    expect(visitor.locator("header.site .brand img")).to_be_visible()
    expect(visitor.get_by_role("link", name="Privacy")).to_have_attribute(
        "href", "https://northwind.example/privacy"
    )
    button = visitor.get_by_role("button", name="Sign in")
    expect(button).to_have_css("background-color", "rgb(11, 110, 79)")
    expect(visitor).to_have_title(re.compile("Northwind"))
    still_picture(visitor, "screenshot-sign-in-branded.png")


def test_the_sign_in_page_in_dark_mode(new_context):
    visitor = new_context(java_script_enabled=True, color_scheme="dark").new_page()
    visitor.set_viewport_size({"width": 900, "height": 640})
    visitor.goto("/login")
    expect(visitor.locator("html")).to_have_css("background-color", "rgb(18, 21, 28)")
    expect(visitor.locator("section.card")).to_have_css("color", "rgb(230, 233, 239)")
    still_picture(visitor, "screenshot-sign-in-dark.png")
