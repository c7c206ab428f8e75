"""The captcha stage: the built-in picture (no JavaScript) and hosted providers, checked against
a fake siteverify server on loopback."""

import json
import re
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest
from sqlalchemy import select, update

from idp.core.extensions import db
from idp.core.options import OptionsError, parse_options
from idp.models import Event, FailedAttempts, FlowToken
from idp.models.types import utcnow
from idp.stages.captcha.options import CaptchaOptions
from tests.factories import make_flow, unique
from tests.http.test_executor import session_of

COOKIE = "gatehouse_session"


def captcha_flow(**options):
    return make_flow(
        [
            {"define": {"name": unique("captcha"), "type": "captcha", "options": options}},
            {
                "define": {
                    "name": unique("after-captcha"),
                    "type": "prompt",
                    "options": {"fields": [{"key": "note", "type": "text"}]},
                }
            },
        ],
        designation="enrollment",
    )


def expected_text(app) -> str:
    with app.app_context():
        (row,) = db.session.scalars(select(FlowToken).where(FlowToken.purpose == "captcha"))
        return row.plan["text"]


def passed(flows) -> bool:
    return flows.stage == "prompt" and 'name="note"' in flows.page


# -- built-in ------------------------------------------------------------------------------------


@pytest.fixture
def builtin(app, flows):
    with app.app_context():
        slug = captcha_flow()
    flows.open(slug)
    return slug


def test_the_picture_is_inline_svg_paths_with_no_text_or_script(app, flows, builtin):
    assert flows.stage == "captcha"
    svg = re.search(r"<svg.*?</svg>", flows.page, re.S).group(0)
    assert svg.count("<path") >= 5
    fragment = flows.page.split('<div id="stage"')[1]
    assert "<text" not in svg and "<script" not in fragment and "<img" not in svg
    text = expected_text(app)
    assert text not in flows.page
    assert text not in json.dumps(session_of(app, flows.client))


def test_the_right_answer_passes_in_any_case_and_spacing(app, flows, builtin):
    text = expected_text(app)
    response = flows.submit(builtin, {"answer": " ".join(text.lower())})
    assert response.status_code == 303 and passed(flows)


def test_a_wrong_answer_is_refused_and_a_new_picture_is_drawn(app, flows, builtin):
    old_picture = re.search(r"<svg.*?</svg>", flows.page, re.S).group(0)
    response = flows.submit(builtin, {"answer": "WRONG"})
    assert response.status_code == 400
    assert "That was not right. Please try this new one." in flows.text
    assert re.search(r"<svg.*?</svg>", flows.page, re.S).group(0) != old_picture
    flows.submit(builtin, {"answer": expected_text(app)})
    assert passed(flows)


def test_reloading_shows_the_same_picture(flows, builtin):
    picture = re.search(r"<svg.*?</svg>", flows.page, re.S).group(0)
    flows.open(builtin)
    assert re.search(r"<svg.*?</svg>", flows.page, re.S).group(0) == picture


def test_a_replayed_cookie_cannot_reuse_a_right_answer(app, flows, builtin):
    before = flows.client.get_cookie(COOKIE).value
    page_before = flows.page
    text = expected_text(app)
    flows.submit(builtin, {"answer": text})
    assert passed(flows)

    flows.client.set_cookie(COOKIE, before)
    flows.page = page_before
    response = flows.submit(builtin, {"answer": text})
    assert response.status_code == 400 and flows.stage == "captcha"
    assert "already answered" in flows.text


def test_an_expired_challenge_is_replaced(app, flows, builtin):
    text = expected_text(app)
    with app.app_context():
        db.session.execute(update(FlowToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = flows.submit(builtin, {"answer": text})
    assert response.status_code == 400 and "had expired" in flows.text
    flows.submit(builtin, {"answer": expected_text(app)})
    assert passed(flows)


def test_an_empty_or_oversized_answer_is_a_form_error(flows, builtin):
    assert flows.submit(builtin, {"answer": ""}).status_code == 400
    assert "Please type the characters in the picture." in flows.text
    assert flows.submit(builtin, {"answer": "x" * 5000}).status_code == 400
    assert "far longer" in flows.text


def test_wrong_answers_are_counted_and_a_replayed_cookie_does_not_reset_them(app, flows):
    with app.app_context():
        slug = captcha_flow(failed_attempts_before_cancel=3)
    flows.open(slug)
    start_cookie, start_page = flows.client.get_cookie(COOKIE).value, flows.page
    flows.submit(slug, {"answer": "WRONG"})
    flows.submit(slug, {"answer": "WRONG"})
    flows.client.set_cookie(COOKIE, start_cookie)
    flows.page = start_page
    flows.open(slug)
    response = flows.submit(slug, {"answer": "WRONG"})
    assert response.status_code == 403 and flows.stage == "message"
    assert "Too many wrong answers. Please start again." in flows.text
    with app.app_context():
        assert db.session.scalar(select(FailedAttempts.failures)) == 3
        assert db.session.scalar(
            select(Event.detail).where(Event.action == "captcha_failed").order_by(Event.id.desc())
        ) == {"failures": 3}


def test_a_right_answer_forgets_the_count(app, flows, builtin):
    flows.submit(builtin, {"answer": "WRONG"})
    flows.submit(builtin, {"answer": expected_text(app)})
    assert passed(flows)
    with app.app_context():
        assert db.session.scalar(select(FailedAttempts.id)) is None


def test_htmx_swaps_the_builtin_stage_in_place(app, flows, builtin):
    response = flows.submit(builtin, {"answer": "WRONG"}, htmx=True)
    assert response.status_code == 200 and "HX-Refresh" not in response.headers
    flows.submit(builtin, {"answer": expected_text(app)}, htmx=True)
    assert passed(flows)


# -- providers -----------------------------------------------------------------------------------


class FakeVerifier:
    """A siteverify endpoint: 'good-token' passes, 'garbage' gets a non-JSON answer."""

    def __init__(self):
        self.requests = []
        verifier = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                form = parse_qs(self.rfile.read(length).decode())
                verifier.requests.append(form)
                token = form.get("response", [""])[0]
                body = (
                    b"<html>oops"
                    if token == "garbage"
                    else json.dumps({"success": token == "good-token"}).encode()
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/siteverify"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def verifier():
    fake = FakeVerifier()
    yield fake
    fake.close()


PROVIDER_OPTIONS = {
    "mode": "provider",
    "provider": "turnstile",
    "site_key": "public-site-key",
    "secret_key": "very-secret-key",
}


@pytest.fixture
def provider(app, flows, verifier):
    with app.app_context():
        slug = captcha_flow(**PROVIDER_OPTIONS, verify_url=verifier.url)
    return slug


TOKEN_FIELD = "cf-turnstile-response"


def test_the_provider_widget_is_rendered_without_the_secret(flows, provider):
    response = flows.open(provider)
    page = flows.page
    assert '<div class="cf-turnstile" data-sitekey="public-site-key"></div>' in page
    assert '<script src="https://challenges.cloudflare.com/turnstile/v0/api.js"' in page
    assert "very-secret-key" not in page
    assert "hx-post" not in page.split('<div id="stage"')[1]  # a plain form, loaded whole
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://challenges.cloudflare.com" in policy
    assert "frame-src 'self' https://challenges.cloudflare.com" in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_other_pages_keep_the_strict_policy(flows, provider):
    response = flows.client.get("/flow/default-authentication-flow/")
    assert "cloudflare" not in response.headers["Content-Security-Policy"]


def test_an_htmx_arrival_at_the_widget_reloads_the_whole_page(flows, provider):
    response = flows.client.get(f"/flow/{provider}/", headers={"HX-Request": "true"})
    assert response.headers["HX-Refresh"] == "true"


def test_a_good_token_passes_and_the_server_asks_the_provider(flows, provider, verifier):
    flows.open(provider)
    response = flows.submit(provider, {TOKEN_FIELD: "good-token"})
    assert response.status_code == 303 and passed(flows)
    (sent,) = verifier.requests
    assert sent == {
        "secret": ["very-secret-key"],
        "response": ["good-token"],
        "remoteip": ["127.0.0.1"],
    }


def test_a_bad_token_is_refused_and_counted(app, flows, provider):
    flows.open(provider)
    response = flows.submit(provider, {TOKEN_FIELD: "bad-token"})
    assert response.status_code == 400 and flows.stage == "captcha"
    assert "The check was not passed." in flows.text
    with app.app_context():
        assert db.session.scalar(select(FailedAttempts.failures)) == 1


def test_a_missing_token_is_a_form_error(flows, provider, verifier):
    flows.open(provider)
    assert flows.submit(provider, {}).status_code == 400
    assert "Please complete the check above." in flows.text
    assert verifier.requests == []


@pytest.mark.parametrize("token", ["garbage"])
def test_a_nonsense_answer_from_the_provider_fails_closed(app, flows, provider, token):
    flows.open(provider)
    assert flows.submit(provider, {TOKEN_FIELD: token}).status_code == 400
    assert "could not be verified right now" in flows.text
    with app.app_context():
        assert db.session.scalar(select(FailedAttempts.id)) is None


def test_an_unreachable_provider_fails_closed(app, flows, verifier):
    verifier.close()
    with app.app_context():
        slug = captcha_flow(**PROVIDER_OPTIONS, verify_url=verifier.url)
    flows.open(slug)
    assert flows.submit(slug, {TOKEN_FIELD: "good-token"}).status_code == 400
    assert "could not be verified right now" in flows.text
    with app.app_context():
        assert db.session.scalar(select(Event.id).where(Event.action == "captcha_unchecked"))


@pytest.mark.parametrize(
    ("provider_name", "field", "widget", "source"),
    [
        ("hcaptcha", "h-captcha-response", "h-captcha", "https://*.hcaptcha.com"),
        ("recaptcha", "g-recaptcha-response", "g-recaptcha", "https://www.gstatic.com"),
    ],
)
def test_each_provider_has_its_widget_field_and_sources(
    app, flows, verifier, provider_name, field, widget, source
):
    with app.app_context():
        slug = captcha_flow(
            **{**PROVIDER_OPTIONS, "provider": provider_name}, verify_url=verifier.url
        )
    response = flows.open(slug)
    assert f'class="{widget}"' in flows.page
    assert source in response.headers["Content-Security-Policy"]
    flows.submit(slug, {field: "good-token"})
    assert passed(flows)


def test_a_custom_script_address_joins_the_policy(app, flows, verifier):
    with app.app_context():
        slug = captcha_flow(
            **PROVIDER_OPTIONS,
            verify_url=verifier.url,
            provider_script_url="https://captcha.example.test/api.js",
        )
    response = flows.open(slug)
    assert '<script src="https://captcha.example.test/api.js"' in flows.page
    assert "https://captcha.example.test" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("options", "place"),
    [
        ({"mode": "provider", "site_key": "k"}, "secret_key"),
        ({"mode": "provider", "secret_key": "s"}, "site_key"),
        ({**PROVIDER_OPTIONS, "verify_url": "http://verify.example.test/"}, "verify_url"),
        ({**PROVIDER_OPTIONS, "verify_url": "file:///etc/passwd"}, "verify_url"),
        ({**PROVIDER_OPTIONS, "provider_script_url": "javascript:alert(1)"}, "provider_script"),
        ({"failed_attempts_before_cancel": 0}, "failed_attempts_before_cancel"),
        ({"mode": "puzzle"}, "mode"),
    ],
)
def test_bad_options_name_their_field(options, place):
    with pytest.raises(OptionsError) as raised:
        parse_options(CaptchaOptions, options)
    assert place in str(raised.value)
