import re
import time

import pytest
from flask.sessions import SecureCookieSessionInterface

from idp.core.extensions import db
from idp.models import Event, Stage, UserSession
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_flow, make_user

AUTH = "default-authentication-flow"


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


def session_of(app, client) -> dict:
    cookie = client.get_cookie("gatehouse_session")
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    return serializer.loads(cookie.value) if cookie else {}


def write_session(app, client, data: dict) -> None:
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    client.set_cookie("gatehouse_session", serializer.dumps(data))


def test_plain_request_gets_the_whole_page(flows):
    response = flows.open(AUTH)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.startswith("<!doctype html>")
    assert 'name="uid_field"' in html
    assert "HX-Request" in response.headers["Vary"]
    assert "no-store" in response.headers["Cache-Control"]


def test_htmx_request_gets_only_the_stage_fragment(flows):
    response = flows.open(AUTH, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="stage"')
    assert "<html" not in html


@pytest.mark.parametrize(
    "headers",
    [
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
    ],
)
def test_boosted_and_history_restore_requests_get_the_whole_page(flows, headers):
    html = flows.open(AUTH, headers=headers).get_data(as_text=True)
    assert html.startswith("<!doctype html>")


def test_valid_plain_post_redirects_back_to_the_flow(flows, alice):
    flows.open(AUTH)
    response = flows.client.post(
        f"/flow/{AUTH}/", data={"uid_field": "alice", "csrf_token": csrf_token(flows.page)}
    )
    assert response.status_code == 303
    # Back to the flow, at the address of the step it now shows (the browser's Back works).
    assert re.fullmatch(rf"/flow/{AUTH}/\?step=\d+", response.headers["Location"])


def test_valid_htmx_post_answers_with_the_next_fragment(flows, alice):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": "alice"}, htmx=True)
    assert response.status_code == 200
    assert flows.stage == "password"
    assert "<html" not in flows.page


def test_htmx_post_at_the_end_answers_with_hx_redirect(flows, alice):
    response = flows.sign_in("alice", PASSWORD, htmx=True)
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/me"


def test_invalid_plain_post_shows_the_stage_again_with_400(flows):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": ""})
    assert response.status_code == 400
    assert flows.stage == "identification"


def test_invalid_htmx_post_shows_the_stage_again_with_200(flows):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": ""}, htmx=True)
    assert response.status_code == 200
    assert flows.stage == "identification"
    assert 'aria-invalid="true"' in flows.page


def test_post_without_csrf_token_is_refused_with_400(flows, alice):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": "alice"}, csrf=False)
    assert response.status_code == 400
    assert "expired or was incomplete" in response.get_data(as_text=True)


def test_post_with_a_forged_csrf_token_is_refused(flows, alice):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"uid_field": "alice", "csrf_token": "forged"})
    assert response.status_code == 400


def test_next_is_kept_through_the_whole_flow(flows, alice):
    flows.open(AUTH, next_url="/me")
    assert re.search(
        r'action="/flow/default-authentication-flow/\?next=/me&amp;step=\d+"', flows.page
    )
    flows.submit(AUTH, {"uid_field": "alice"}, next_url="/me")
    response = flows.submit(AUTH, {"password": PASSWORD}, next_url="/me")
    assert response.headers["Location"] == "/me"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "http:/evil.example",
        "javascript:alert(1)",
        "/\r\nLocation: https://evil.example",
    ],
)
def test_next_pointing_off_site_falls_back_to_the_default_page(flows, alice, next_url):
    flows.client.get(f"/flow/{AUTH}/", query_string={"next": next_url})
    flows.page = flows.client.get(f"/flow/{AUTH}/").get_data(as_text=True)
    flows.submit(AUTH, {"uid_field": "alice"})
    response = flows.submit(AUTH, {"password": PASSWORD})
    assert response.headers["Location"] == "/me"  # signed in, without a `next` of its own


def test_unknown_flow_is_a_clear_404(client):
    response = client.get("/flow/no-such-flow/")
    assert response.status_code == 404
    assert "There is no flow at this address." in response.get_data(as_text=True)


def test_tampered_cookie_starts_the_flow_afresh(app, flows, alice):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    cookie = flows.client.get_cookie("gatehouse_session")
    flows.client.set_cookie("gatehouse_session", cookie.value[:-4] + "AAAA")
    response = flows.open(AUTH)
    assert response.status_code == 200
    assert flows.stage == "identification"


def test_post_after_the_plan_is_gone_restarts_cleanly(app, flows, alice):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    token = csrf_token(flows.page)
    data = session_of(app, flows.client)
    data.pop("plans")
    write_session(app, flows.client, data)
    response = flows.client.post(f"/flow/{AUTH}/", data={"password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    page = flows.client.get(f"/flow/{AUTH}/").get_data(as_text=True)
    assert "started again" in page
    assert 'name="uid_field"' in page
    assert flows.client.get("/me").status_code == 302


def test_expired_plan_is_discarded(app, flows, alice):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    data = session_of(app, flows.client)
    data["plans"][AUTH]["expires_at"] = time.time() - 1
    write_session(app, flows.client, data)
    flows.open(AUTH)
    assert flows.stage == "identification"


def test_plan_made_before_the_flow_was_edited_is_discarded(app, flows, alice):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    assert flows.stage == "password"
    with app.app_context():
        stage = db.session.query(Stage).filter_by(name="default-authentication-password").one()
        stage.options = {}
        db.session.commit()
        login = db.session.query(Stage).filter_by(name="default-authentication-login").one()
        login.options = {"session_duration": "2h"}
        db.session.commit()
    flows.open(AUTH)
    assert flows.stage == "identification"


def test_malformed_plan_in_a_validly_signed_cookie_is_discarded(app, flows):
    flows.open(AUTH)
    data = session_of(app, flows.client)
    data["plans"][AUTH]["position"] = 99
    write_session(app, flows.client, data)
    assert flows.open(AUTH).status_code == 200
    assert flows.stage == "identification"


def test_a_stage_cannot_be_skipped_by_posting_its_answer_early(flows, alice):
    flows.open(AUTH)
    response = flows.submit(AUTH, {"password": PASSWORD})
    assert response.status_code == 400
    assert flows.stage == "identification"
    assert flows.client.get("/me").status_code == 302


def test_replaying_the_cookie_from_before_sign_in_cannot_sign_in_twice(app, flows, alice):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    before_password = flows.client.get_cookie("gatehouse_session").value
    token = csrf_token(flows.page)
    flows.submit(AUTH, {"password": PASSWORD})
    flows.client.get("/logout", follow_redirects=True)
    flows.client.set_cookie("gatehouse_session", before_password)
    # The replayed plan still needs the password: nothing in it proves who is signing in.
    response = flows.client.post(f"/flow/{AUTH}/", data={"password": "wrong", "csrf_token": token})
    assert response.status_code == 400
    assert flows.client.get("/me").status_code == 302


def test_a_plan_signs_in_only_once(app, flows, alice):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    token = csrf_token(flows.page)
    after_identification = flows.client.get_cookie("gatehouse_session").value
    flows.submit(AUTH, {"password": PASSWORD})
    # Someone who captured the cookie holding the proved user and replays the last step:
    data = session_of(app, flows.client)
    assert "plans" not in data or AUTH not in data["plans"]
    flows.client.set_cookie("gatehouse_session", after_identification)
    flows.client.post(f"/flow/{AUTH}/", data={"password": PASSWORD, "csrf_token": token})
    with app.app_context():
        plan_ids = [row.plan_id for row in db.session.query(UserSession).all()]
    assert len(plan_ids) == len(set(plan_ids))


def test_restart_link_forgets_the_plan(flows, alice):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    assert "Not you?" in flows.page
    response = flows.client.get(f"/flow/{AUTH}/restart")
    assert response.status_code == 303
    flows.open(AUTH)
    assert flows.stage == "identification"


def test_security_headers_are_on_every_response(client):
    for path in ("/", f"/flow/{AUTH}/", "/healthz", "/flow/nope/"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_httponly_and_lax_over_http(flows):
    flows.open(AUTH)
    cookie = flows.client.get_cookie("gatehouse_session")
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    assert not cookie.secure


def test_session_cookie_is_secure_with_host_prefix_over_https(client):
    client.get(f"/flow/{AUTH}/", base_url="https://idp.example")
    cookie = client.get_cookie("__Host-gatehouse_session", domain="idp.example")
    assert cookie is not None and cookie.secure and cookie.http_only
    assert cookie.path == "/"


def test_pages_load_htmx_without_inline_script(flows):
    html = flows.open(AUTH).get_data(as_text=True)
    assert '<script src="/static/htmx.min.2.0.11.js?v=' in html
    assert 'integrity="sha384-' in html
    assert "<script>" not in html


def test_every_form_has_a_csrf_token(flows, alice):
    flows.open(AUTH)
    assert 'name="csrf_token"' in flows.page
    flows.submit(AUTH, {"uid_field": "alice"})
    assert 'name="csrf_token"' in flows.page


def test_completing_a_flow_is_an_event(app, flows, alice):
    flows.sign_in("alice", PASSWORD)
    with app.app_context():
        actions = [event.action for event in db.session.query(Event).order_by(Event.id)]
    assert actions[-2:] == ["login", "flow_completed"]


def test_a_misconfigured_stage_stops_the_flow_with_a_message(app, flows):
    with app.app_context():
        slug = make_flow([{"define": {"name": "broken-deny", "type": "deny"}}])
        stage = db.session.query(Stage).filter_by(name="broken-deny").one()
        stage.options = {"message": 5}
        db.session.commit()
    response = flows.open(slug)
    assert response.status_code == 403
    assert "misconfigured" in flows.text


def test_a_cached_flow_keeps_refusing_bad_options_until_they_are_fixed(app, flows):
    with app.app_context():
        slug = make_flow([{"define": {"name": "broken-later", "type": "deny"}}])
        stage = db.session.query(Stage).filter_by(name="broken-later").one()
        stage.options = {"message": 5}
        db.session.commit()
    for _ in range(2):  # the second from the worker's cache, options parsed once
        assert flows.open(slug).status_code == 403
        assert "misconfigured" in flows.text
    with app.app_context():
        stage = db.session.query(Stage).filter_by(name="broken-later").one()
        stage.options = {"message": "Fixed and closed."}
        db.session.commit()
    flows.open(slug)
    assert "Fixed and closed." in flows.text


def test_a_stage_type_that_is_not_installed_stops_the_flow(app, flows):
    with app.app_context():
        slug = make_flow([{"define": {"name": "gone-stage", "type": "deny"}}])
        db.session.query(Stage).filter_by(name="gone-stage").one().type = "vanished"
        db.session.commit()
    response = flows.open(slug)
    assert response.status_code == 403
    assert "not installed" in flows.text


def test_a_plan_does_not_survive_sign_out_for_the_next_person(app, flows, alice):
    """A shared browser: alice starts changing her password, signs out; bob signs in."""
    with app.app_context():
        make_user("bob")
    flows.sign_in("alice", PASSWORD)
    flows.open("default-password-change")
    flows.submit("default-password-change", {"password": PASSWORD})
    assert flows.stage == "prompt"
    flows.client.get("/logout", follow_redirects=True)
    flows.client.get(f"/flow/{AUTH}/restart")
    flows.sign_in("bob", PASSWORD)
    flows.open("default-password-change")
    assert flows.stage == "password"  # bob starts from the beginning, as bob


def test_a_plan_started_before_sign_in_starts_again_after_it(app, flows, alice):
    with app.app_context():
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "ask-colour",
                        "type": "prompt",
                        "options": {"fields": [{"key": "colour", "type": "text"}]},
                    }
                },
                {
                    "define": {
                        "name": "ask-shape",
                        "type": "prompt",
                        "options": {"fields": [{"key": "shape", "type": "text"}]},
                    }
                },
            ],
            designation="stage_configuration",
        )
    flows.open(slug)
    flows.submit(slug, {"colour": "red"})
    assert 'name="shape"' in flows.page
    flows.sign_in("alice", PASSWORD)
    flows.open(slug)
    assert 'name="colour"' in flows.page


def test_htmx_finish_with_a_non_ascii_next_is_a_valid_header(flows, alice):
    flows.open(AUTH, next_url="/日本?q=é")
    flows.submit(AUTH, {"uid_field": "alice"}, htmx=True, next_url="/日本?q=é")
    response = flows.submit(AUTH, {"password": PASSWORD}, htmx=True, next_url="/日本?q=é")
    assert response.headers["HX-Redirect"] == "/%E6%97%A5%E6%9C%AC?q=%C3%A9"


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_another_site_cannot_make_a_browser_forget_its_plan(flows, alice, site):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    flows.client.get(f"/flow/{AUTH}/restart", headers={"Sec-Fetch-Site": site})
    flows.open(AUTH)
    assert flows.stage == "password"


def test_sign_out_from_a_sibling_subdomain_asks_for_a_click(flows, alice):
    flows.sign_in("alice", PASSWORD)
    flows.client.get("/flow/default-invalidation-flow/", headers={"Sec-Fetch-Site": "same-site"})
    assert flows.client.get("/me").status_code == 200


def test_a_flow_without_next_ends_on_the_account_page_only_for_someone_signed_in(flows, alice):
    """A sign-in without `next` goes straight to /me (where "/" would send it, a request
    later); the sign-out flow, which leaves nobody signed in, still ends on "/"."""
    assert flows.sign_in("alice", PASSWORD).headers["Location"] == "/me"
    out = flows.client.get("/flow/default-invalidation-flow/", headers={"Sec-Fetch-Site": "none"})
    assert out.status_code in (302, 303) and out.headers["Location"] == "/"
    assert flows.client.get("/me").status_code == 302  # signed out
