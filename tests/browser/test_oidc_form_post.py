"""response_mode=form_post in a real browser: with JavaScript the page posts the code to the
app by itself; without it, the visitor presses the one button. Either way the app receives a
POST with the code, the state and Gatehouse's issuer (RFC 9207)."""

import re
import secrets
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect

from tests.browser.pages import enter_password, identify, stage
from tests.factories import PASSWORD
from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import authorize_url

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
