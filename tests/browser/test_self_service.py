"""The captcha stage and deleting your own account, in a browser, JavaScript on and off."""

import json

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import FlowToken, User
from tests import factories
from tests.browser.pages import (
    AT_ANY_STEP,
    LOGIN_FLOW,
    enter_password,
    identify,
    sign_in,
    stage,
    url_path,
)
from tests.factories import PASSWORD
from tests.stub_server import StubHandler, serving

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

UNENROLL_FLOW = "/flow/default-unenrollment-flow/"


@pytest.fixture
def captcha_flow(app):
    with app.app_context():
        return factories.make_flow(
            [
                {"define": {"name": "browser-captcha", "type": "captcha"}},
                {
                    "define": {
                        "name": "browser-after-captcha",
                        "type": "prompt",
                        "options": {"fields": [{"key": "note", "label": "Note", "type": "text"}]},
                    }
                },
            ],
            designation="enrollment",
        )


def captcha_answer(app) -> str:
    with app.app_context():
        return db.session.scalar(select(FlowToken.plan).where(FlowToken.purpose == "captcha"))[
            "text"
        ]


def answer_captcha(page, text: str) -> None:
    page.fill('input[name="answer"]', text)
    page.get_by_role("button", name="Continue").click()


def test_the_builtin_captcha_is_answered_in_the_browser(visitor, javascript, app, captcha_flow):
    errors = []
    visitor.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    visitor.goto(f"/flow/{captcha_flow}/")
    expect(stage(visitor, "captcha")).to_be_visible()
    picture = visitor.locator("#stage svg[role=img]")
    expect(picture).to_be_visible()
    assert picture.bounding_box()["width"] > 100
    expect(visitor.locator('input[name="answer"]')).to_be_focused()
    if javascript:
        visitor.evaluate("window.__marker = 1")

    answer_captcha(visitor, "WRONG")
    expect(stage(visitor, "captcha")).to_contain_text("That was not right.")

    answer_captcha(visitor, captcha_answer(app).lower())
    expect(stage(visitor, "prompt")).to_be_visible()
    expect(visitor.locator('input[name="note"]')).to_be_visible()
    if javascript:
        assert visitor.evaluate("window.__marker") == 1  # swapped in place, no reload
    # The inline SVG and its form break no content security policy rule.
    assert not [error for error in errors if "Content Security Policy" in error], errors


# A stand-in for a hosted provider on another origin: its script fills in the widget's token,
# its siteverify accepts that token.
FAKE_WIDGET_SCRIPT = b"""
for (const widget of document.querySelectorAll(".cf-turnstile")) {
  const token = document.createElement("input");
  token.type = "hidden"; token.name = "cf-turnstile-response"; token.value = "good-token";
  widget.append(token);
  widget.textContent = "";
  widget.append(token, "Checked");
}
"""


class FakeProvider(StubHandler):
    def do_GET(self):
        self.answer(FAKE_WIDGET_SCRIPT, "text/javascript")

    def do_POST(self):
        answer = {"success": "good-token" in self.posted_text()}
        self.answer(json.dumps(answer), "application/json")


@pytest.fixture
def fake_provider():
    with serving(FakeProvider) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.mark.parametrize("javascript", [True], ids=["js-on"])
def test_a_provider_widget_loads_from_its_origin_even_after_an_htmx_swap(
    visitor, app, fake_provider
):
    with app.app_context():
        slug = factories.make_flow(
            [
                {
                    "define": {
                        "name": "browser-before-provider",
                        "type": "prompt",
                        "options": {"fields": [{"key": "note", "type": "text"}]},
                    }
                },
                {
                    "define": {
                        "name": "browser-provider",
                        "type": "captcha",
                        "options": {
                            "mode": "provider",
                            "site_key": "site",
                            "secret_key": "secret",
                            "verify_url": f"{fake_provider}/siteverify",
                            "provider_script_url": f"{fake_provider}/api.js",
                        },
                    }
                },
                {"define": {"name": "browser-after-provider", "type": "deny"}},
            ],
            designation="enrollment",
        )
    blocked = []
    visitor.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    visitor.goto(f"/flow/{slug}/")
    visitor.get_by_role("button", name="Continue").click()  # an HTMX POST

    # The answer asked for a full reload, so the widget's script ran under this page's policy.
    expect(stage(visitor, "captcha")).to_contain_text("Checked")
    visitor.get_by_role("button", name="Continue").click()
    expect(stage(visitor, "message")).to_contain_text("You may not continue.")
    assert blocked == []


def confirm_deletion(visitor, password: str) -> None:
    field = visitor.locator('#stage input[name="password"]')
    expect(field).to_be_visible()
    field.fill(password)
    visitor.get_by_role("button", name="Delete my account").click()


def test_an_anonymous_visitor_signs_in_on_the_way_to_deleting_their_account(visitor, make_user):
    username = make_user()
    visitor.goto("/unenroll")
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + r"\?next=/unenroll" + r"(&step=\d+)?$"))
    identify(visitor, username)
    enter_password(visitor, PASSWORD)
    expect(visitor).to_have_url(url_path(UNENROLL_FLOW + AT_ANY_STEP))
    expect(stage(visitor, "prompt")).to_contain_text("This deletes your account")


def test_a_user_deletes_their_account(visitor, app, make_user):
    username = make_user()
    sign_in(visitor, username, PASSWORD)
    expect(visitor).to_have_url(url_path("/me$"))

    visitor.goto("/unenroll")
    expect(visitor).to_have_url(url_path(UNENROLL_FLOW + AT_ANY_STEP))
    expect(stage(visitor, "prompt")).to_contain_text("This deletes your account")
    visitor.get_by_role("button", name="Continue").click()
    # The words of deleting an account, not of signing in.
    confirm_deletion(visitor, "not the password")
    expect(stage(visitor, "password")).to_contain_text("Wrong password.")
    confirm_deletion(visitor, PASSWORD)

    expect(visitor).to_have_url(url_path(LOGIN_FLOW))
    expect(visitor.get_by_role("status")).to_contain_text("Your account was deleted.")
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(User.username == username)) == 0
    visitor.goto("/me")
    expect(visitor).to_have_url(url_path(LOGIN_FLOW + r"\?next="))
    sign_in(visitor, username, PASSWORD)
    expect(visitor.locator("#stage")).to_contain_text("Invalid username or password.")
