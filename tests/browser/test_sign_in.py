"""Signing in and out through the shipped flows in a real browser, JavaScript on and off."""

import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    AT_ANY_STEP,
    INVALID,
    LOGIN_FLOW,
    enter_password,
    identify,
    sign_in,
    stage,
    url_path,
)
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshot-sign-in.png"


def test_sign_in_and_out_through_the_flows(visitor, make_user):
    username = make_user()

    sign_in(visitor, username, PASSWORD)

    expect(visitor).to_have_url(url_path("/me$"))
    expect(visitor.locator("dl.facts")).to_contain_text(username)
    expect(visitor.get_by_role("heading", level=1)).to_contain_text(username)

    visitor.get_by_role("link", name="Sign out").first.click()

    expect(visitor).to_have_url(url_path(LOGIN_FLOW + AT_ANY_STEP))
    expect(stage(visitor, "identification")).to_be_visible()
    expect(visitor.get_by_role("link", name="Sign out")).to_have_count(0)
    visitor.goto("/me")
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + r"\?next="))
    assert parse_qs(urlsplit(visitor.url).query)["next"] == ["/me"]
    expect(stage(visitor, "identification")).to_be_visible()


def test_one_page_asks_for_name_and_password_swapped_with_js_and_posted_plainly_without(
    visitor, javascript, make_user, live_server
):
    username = make_user()
    posts = []
    visitor.on(
        "request", lambda request: posts.append(request) if request.method == "POST" else None
    )
    visitor.goto("/login")
    identification = stage(visitor, "identification")
    expect(identification.locator('input[name="password"]')).to_be_visible()
    if javascript:
        visitor.evaluate("window.__marker = 1")

    identify(visitor, username)
    enter_password(visitor, "not the password")
    # The same page again, the name kept and the error at the password.
    expect(visitor.get_by_text(INVALID)).to_be_visible()
    expect(identification.locator('input[name="uid_field"]')).to_have_value(username)
    if javascript:
        # Swapped in place: the page was not reloaded.
        assert visitor.evaluate("window.__marker") == 1
    enter_password(visitor, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))
    if javascript:
        # The end of the flow is a real navigation (HX-Redirect), not a swapped fragment.
        assert visitor.evaluate("window.__marker") is None

    # No password stage on the way: one POST per try, the right one straight to next.
    assert len(posts) == 2
    for post in posts:
        assert re.fullmatch(re.escape(live_server(LOGIN_FLOW)) + AT_ANY_STEP, post.url)
        assert "csrf_token=" in (post.post_data or "")
        if javascript:
            assert post.headers.get("hx-request") == "true"
            assert not post.is_navigation_request()
        else:
            assert "hx-request" not in post.headers
            assert post.is_navigation_request()


@pytest.mark.parametrize("who", ["known user", "unknown user"])
def test_a_wrong_password_and_an_unknown_user_get_the_same_message(visitor, make_user, who):
    username = make_user() if who == "known user" else "nobody-by-this-name"

    sign_in(visitor, username, "not the password")

    expect(stage(visitor, "identification")).to_be_visible()
    expect(visitor.locator("#stage")).to_contain_text(INVALID)
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + AT_ANY_STEP))
    # Still signed out, and the form is there to try again.
    expect(visitor.locator('input[name="password"]')).to_have_value("")
    expect(visitor.get_by_role("link", name="Sign out")).to_have_count(0)


@pytest.mark.parametrize("target", ["/me", "/me?tab=sessions"], ids=["me", "me-with-query"])
def test_next_is_kept_through_the_flow_and_followed_at_the_end(visitor, make_user, target):
    username = make_user()

    visitor.goto(f"/login?next={quote(target)}")
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + r"\?next="))
    assert parse_qs(urlsplit(visitor.url).query)["next"] == [target]
    identify(visitor, username)
    enter_password(visitor, PASSWORD)

    expect(visitor).to_have_url(url_path(re.escape(target) + "$"))
    expect(visitor.locator("dl.facts")).to_contain_text(username)


@pytest.mark.parametrize(
    "entrance",
    [
        "/login?next=https://evil.example/",
        # Straight into the flow, past the /login entrance's own check.
        LOGIN_FLOW + "?next=//evil.example/",
    ],
    ids=["login", "flow"],
)
def test_next_to_another_site_does_not_leave_the_site(visitor, make_user, live_server, entrance):
    username = make_user()
    left = []

    def refuse(route):
        left.append(route.request.url)
        route.abort()

    visitor.route(lambda url: urlsplit(url).hostname == "evil.example", refuse)

    sign_in(visitor, username, PASSWORD, login_url=entrance)

    expect(visitor).to_have_url(url_path("/me$"))
    assert visitor.url.startswith(live_server.url)
    assert left == []


@pytest.mark.parametrize("javascript", [True], ids=["js-on"])
def test_the_sign_in_pages_break_no_content_security_policy_rule(visitor, make_user):
    username = make_user()
    errors = []
    visitor.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    visitor.on("pageerror", lambda error: errors.append(str(error)))

    visitor.goto("/login")
    identify(visitor, username)
    enter_password(visitor, "not the password")
    expect(visitor.get_by_text(INVALID)).to_be_visible()
    enter_password(visitor, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))
    visitor.get_by_role("link", name="Sign out").first.click()
    expect(stage(visitor, "identification")).to_be_visible()

    assert not [error for error in errors if "Content Security Policy" in error], errors
    # htmx was loaded (its integrity hash matched) and did the swapping. Waited for: the page
    # after signing out may still be loading its deferred scripts.
    visitor.wait_for_load_state("load")
    visitor.wait_for_function("typeof window.htmx === 'object'")


def test_the_sign_in_page_is_screenshotted_for_the_readme(page_with_js, make_user):
    make_user(username="alice")
    page_with_js.goto("/login")
    identify(page_with_js, "alice")
    # A still picture: nothing focused, nothing hovered.
    page_with_js.locator('input[name="uid_field"]').blur()
    page_with_js.mouse.move(0, 0)

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page_with_js.screenshot(path=SCREENSHOT, full_page=True, animations="disabled")

    assert SCREENSHOT.stat().st_size > 0
