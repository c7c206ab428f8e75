"""A tour of the pages the other browser tests pass by or do not open, so that the audit
(accessibility.py, both themes) sees them too: every admin list and form, a user's and a
flow's pages, the Brand page with its messages, the account pages and an error page."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import sign_in, url_path
from tests.factories import PASSWORD, make_flow, make_group
from tests.factories import make_user as create_user

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

ADMIN_PAGES = [
    "/admin/",
    "/admin/applications",
    "/admin/applications/new",
    "/admin/brand",
    "/admin/events",
    "/admin/flows",
    "/admin/flows/new",
    "/admin/groups",
    "/admin/groups/new",
    "/admin/invitations",
    "/admin/invitations/new",
    "/admin/policies",
    "/admin/policies/new",
    "/admin/settings",
    "/admin/stages",
    "/admin/stages/new",
    "/admin/users",
    "/admin/users/new",
]
FLOW_TABS = ["/", "/stages", "/policies", "/diagram", "/simulate", "/export", "/import"]


@pytest.fixture
def admin(app, new_context, javascript):
    with app.app_context():
        staff = make_group("staff")
        create_user("mia", groups=[staff], email="mia@example.test")
        make_flow(
            [{"stage": "default-authentication-identification"}],
            slug="toured",
            name="Toured",
            designation="authentication",
        )
    page = new_context(java_script_enabled=javascript).new_page()
    sign_in(page, "admin", PASSWORD, login_url="/login?next=/admin/")
    expect(page).to_have_url(url_path("/admin/$"))
    return page


def test_every_admin_list_and_form(admin):
    for path in ADMIN_PAGES:
        response = admin.goto(path)
        assert response.status == 200, path
        expect(admin.locator("#admin-content")).to_be_visible()


def test_a_users_a_groups_and_a_flows_pages(admin):
    admin.goto("/admin/users?q=mia")
    admin.get_by_role("link", name="mia").first.click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("mia")
    admin.goto("/admin/groups")
    admin.get_by_role("link", name="staff").first.click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("staff")
    for tab in FLOW_TABS:
        response = admin.goto(f"/admin/flows/toured{tab}")
        assert response.status == 200, tab


def test_the_brand_page_with_its_messages(admin):
    admin.goto("/admin/brand")
    admin.get_by_label("Accent colour").fill("#ffcc00")
    admin.get_by_label("Footer links").fill("Bad | javascript:alert(1)")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator(".field.invalid")).to_contain_text("must start with http://")
    admin.get_by_label("Footer links").fill("Help | https://help.example/")
    admin.get_by_role("button", name="Save").click()
    expect(admin.locator(".notice")).to_contain_text("Brand saved.")
    # A light accent: black text on it, links darkened; both themes are audited.
    admin.goto("/login")
    admin.goto("/me")
    expect(admin.get_by_role("link", name="Help")).to_be_visible()


def test_the_account_pages_and_an_error_page(admin):
    for path in ("/me", "/me/applications", "/no-such-page"):
        admin.goto(path)
        expect(admin.locator("main")).to_be_visible()
