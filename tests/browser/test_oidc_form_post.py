"""response_mode=form_post in a real browser: with JavaScript the page posts the code to the
app by itself; without it, the visitor presses the one button. Either way the app receives a
POST with the code, the state and Gatehouse's issuer (RFC 9207)."""

import html
import re
import secrets
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from tests.browser.pages import enter_password, identify, stage
from tests.factories import PASSWORD
from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import authorize_url
from tests.stub_server import StubHandler, serving

pytestmark = pytest.mark.usefixtures("instance_is_set_up")


def test_the_code_reaches_the_app_by_post(visitor, javascript, make_user, app):
    username = make_user()
    client_id, _secret = make_client(app)
    received = []

    def the_app(route):
        received.append((route.request.method, route.request.post_data or ""))
        route.fulfill(status=200, body="the app")

    visitor.route("https://rp.example.test/**", the_app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_mode="form_post")
    visitor.goto(url)
    identify(visitor, username)
    enter_password(visitor, PASSWORD)
    expect(stage(visitor, "consent")).to_contain_text("will receive")
    visitor.get_by_role("button", name="Allow").click()
    if not javascript:
        expect(visitor.get_by_role("heading", name="Taking you to RP")).to_be_visible()
        visitor.get_by_role("button", name="Continue to RP").click()
    expect(visitor).to_have_url(re.compile("^" + re.escape(REDIRECT_URI) + "$"))
    [(method, body)] = received
    assert method == "POST"
    answer = {key: values[0] for key, values in parse_qs(body).items()}
    assert set(answer) == {"code", "state", "iss"}
    assert answer["state"] == "s1" and answer["iss"].endswith("/application/o/rp/")


class AppPage(StubHandler):
    """The app, on a port of its own at http://localhost: a page that frames Gatehouse, and
    a callback that keeps what was posted to it. (Chromium lets only a page that came from
    the local network frame one on it, so Playwright's routes cannot stand in here.)"""

    framed_url = ""
    posted: list[str] = []

    def do_GET(self):
        framed = html.escape(self.framed_url)
        self.answer(
            '<!doctype html><html lang="en"><head><title>The app</title></head><body><main>'
            f'<h1>The app</h1><iframe title="Sign-in" src="{framed}"></iframe></main></body></html>'
        )

    def do_POST(self):
        self.posted.append(self.posted_text())
        self.answer('<!doctype html><html lang="en"><title>Back</title><p>answered</p></html>')


@pytest.fixture
def app_page():
    """The app's handler class, with a list of its own for what it is posted."""
    handler = type("AppPageOfThisTest", (AppPage,), {"posted": []})
    with serving(handler) as server:
        handler.origin = f"http://localhost:{server.server_port}"
        yield handler


def test_a_silent_request_in_the_apps_iframe_gets_its_answer(
    visitor, javascript, app, base_url, app_page
):
    """prompt=none in a hidden iframe of the app (how single-page apps renew a sign-in): the
    answer page may be framed by the app's own origin, and posts there from the frame. The
    visitor is not signed in here (a cross-site frame sends no Lax cookie): login_required."""
    if not javascript:
        pytest.skip("the answer posts itself only with JavaScript")
    callback = f"{app_page.origin}/callback"
    client_id, _secret = make_client(app, redirect_uris=[callback])
    app_page.framed_url = base_url + authorize_url(
        client_id, secrets.token_urlsafe(48), redirect_uri=callback, prompt="none",
        response_mode="form_post",
    )  # fmt: skip
    visitor.goto(f"{app_page.origin}/")
    expect(visitor.frame_locator("iframe").locator("p")).to_have_text("answered")
    [body] = app_page.posted
    answer = {key: values[0] for key, values in parse_qs(body).items()}
    assert answer["error"] == "login_required" and answer["state"] == "s1"
