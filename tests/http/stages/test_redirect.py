"""The redirect stage: to another site, or into another flow with what this one gathered."""

import pytest

from idp.core.options import OptionsError
from idp.stages.registry import STAGE_TYPES
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_flow, make_user


def redirect_stage(name, **options):
    return {"define": {"name": name, "type": "redirect", "options": options}}


def sign_in_then(stage) -> list:
    """Identification with the password on its page, then `stage`."""
    return [{"stage": "default-authentication-identification"}, stage]


@pytest.fixture
def ada(app):
    with app.app_context():
        make_user("ada")


def test_a_static_redirect_sends_a_plain_form_to_the_address_and_ends_the_flow(app, ada, flows):
    with app.app_context():
        slug = make_flow(
            sign_in_then(redirect_stage("to-docs", mode="static", target_url="https://docs.test/x"))
        )
    flows.open(slug)
    response = flows.submit(slug, {"uid_field": "ada", "password": PASSWORD})
    # Straight after a form, a page that moves on by itself (see idp.core.http.leave_site).
    assert response.headers["Refresh"] == "0; url=https://docs.test/x"
    assert 'href="https://docs.test/x"' in flows.page
    flows.open(slug)
    assert flows.stage == "identification"


def test_a_static_redirect_answers_htmx_with_hx_redirect(app, ada, flows):
    with app.app_context():
        slug = make_flow(
            sign_in_then(redirect_stage("to-docs-htmx", mode="static", target_url="http://a.test/"))
        )
    flows.open(slug)
    response = flows.submit(slug, {"uid_field": "ada", "password": PASSWORD}, htmx=True)
    assert (response.status_code, response.headers["HX-Redirect"]) == (200, "http://a.test/")


def test_a_static_redirect_reached_from_another_site_is_a_303(app, ada):
    with app.app_context():
        slug = make_flow(
            [redirect_stage("to-docs-now", mode="static", target_url="https://d.test/")]
        )
    client = app.test_client(sec_fetch_site="cross-site")
    first = client.get(f"/flow/{slug}/")
    # Not acted on from another site's link: the visitor confirms.
    assert first.status_code == 200
    client = app.test_client(sec_fetch_site="none")
    response = client.get(f"/flow/{slug}/")
    assert (response.status_code, response.headers["Location"]) == (303, "https://d.test/")


def test_a_flow_redirect_keeps_the_proved_user_and_next(app, ada, flows):
    with app.app_context():
        finish = make_flow([{"stage": "default-authentication-login"}])
        slug = make_flow(sign_in_then(redirect_stage("into-finish", target_flow=finish)))
    flows.open(slug, next_url="/me")
    response = flows.client.post(
        f"/flow/{slug}/?next=/me",
        data={"uid_field": "ada", "password": PASSWORD, "csrf_token": csrf_token(flows.page)},
    )
    assert (response.status_code, response.headers["Location"]) == (303, f"/flow/{finish}/")
    done = flows.client.get(response.headers["Location"])
    assert (done.status_code, done.headers["Location"]) == (303, "/me")
    assert flows.client.get("/me").status_code == 200


def test_a_flow_redirect_answers_htmx_with_hx_redirect_into_the_flow(app, ada, flows):
    with app.app_context():
        finish = make_flow([{"stage": "default-authentication-login"}])
        slug = make_flow(sign_in_then(redirect_stage("into-finish-htmx", target_flow=finish)))
    flows.open(slug)
    response = flows.submit(slug, {"uid_field": "ada", "password": PASSWORD}, htmx=True)
    assert response.headers["HX-Redirect"] == f"/flow/{finish}/"
    flows.client.get(f"/flow/{finish}/")
    assert flows.client.get("/me").status_code == 200


def test_a_flow_redirect_without_keep_context_proves_nobody_in_the_new_flow(app, ada, flows):
    with app.app_context():
        finish = make_flow([{"stage": "default-authentication-login"}])
        slug = make_flow(
            sign_in_then(redirect_stage("into-fresh", target_flow=finish, keep_context=False))
        )
    flows.open(slug)
    flows.submit(slug, {"uid_field": "ada", "password": PASSWORD})
    assert flows.client.get("/me").status_code == 302


@pytest.mark.parametrize(
    ("target", "message"),
    [("missing-flow", "does not exist"), (None, "same flow")],
)
def test_a_flow_redirect_to_no_flow_or_to_itself_stops_with_a_message(app, flows, target, message):
    with app.app_context():
        slug = f"loop-{message.split()[0]}"
        make_flow([redirect_stage(f"bad-{slug}", target_flow=target or slug)], slug=slug)
    response = flows.open(slug)
    assert response.status_code == 403
    assert message in flows.text


@pytest.mark.parametrize(
    "url",
    [
        "/if/user/",
        "javascript:alert(1)",
        "ftp://files.test/",
        "https://",
        "https://user:secret@evil.test/",
        " https://a.test/",
        "https://a.test/\r\nSet-Cookie: x",
        "https://a.test:99999/",
        "data:text/html,hi",
    ],
)
def test_a_static_target_must_be_an_absolute_web_address(url):
    with pytest.raises(OptionsError) as caught:
        STAGE_TYPES["redirect"].parse_options({"mode": "static", "target_url": url})
    assert caught.value.place == "target_url"


def test_a_flow_target_must_be_a_slug():
    with pytest.raises(OptionsError) as caught:
        STAGE_TYPES["redirect"].parse_options({"mode": "flow", "target_flow": "../admin"})
    assert caught.value.place == "target_flow"
