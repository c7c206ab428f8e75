from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import User, UserSession
from idp.models.types import utcnow
from tests.factories import PASSWORD, make_flow, make_user
from tests.http.test_executor import session_of

AUTH = "default-authentication-flow"


def rows(app):
    with app.app_context():
        return list(db.session.scalars(select(UserSession).order_by(UserSession.id)))


def test_sign_in_creates_a_session_row_and_a_new_session_key(app, flows):
    with app.app_context():
        make_user("pat")
    flows.open(AUTH)
    before = session_of(app, flows.client)
    flows.submit(AUTH, {"uid_field": "pat"})
    flows.submit(AUTH, {"password": PASSWORD})
    after = session_of(app, flows.client)
    assert "sid" not in before and "sid" in after
    assert before.get("csrf_token") != after.get("csrf_token")
    [row] = rows(app)
    assert row.revoked_at is None
    assert row.key_hash != after["sid"]  # only the hash is stored
    assert row.ip == "127.0.0.1"


def test_signing_in_again_replaces_the_previous_session(app, flows):
    with app.app_context():
        make_user("quinn")
    flows.sign_in("quinn", PASSWORD)
    first_sid = session_of(app, flows.client)["sid"]
    flows.client.get(f"/flow/{AUTH}/restart")
    flows.sign_in("quinn", PASSWORD)
    assert session_of(app, flows.client)["sid"] != first_sid
    first, second = rows(app)
    assert first.revoked_at is not None and second.revoked_at is None


def test_session_duration_option_sets_the_expiry(app, flows):
    with app.app_context():
        make_user("ruth")
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"stage": "default-authentication-password"},
                {
                    "define": {
                        "name": "short-login",
                        "type": "user_login",
                        "options": {"session_duration": "2h"},
                    }
                },
            ]
        )
    flows.sign_in("ruth", PASSWORD, slug=slug)
    [row] = rows(app)
    lifetime = row.expires_at - row.created_at
    assert timedelta(hours=1, minutes=59) < lifetime <= timedelta(hours=2, seconds=5)


def test_expired_session_is_anonymous(app, flows):
    with app.app_context():
        make_user("sam")
    flows.sign_in("sam", PASSWORD)
    with app.app_context():
        row = db.session.scalars(select(UserSession)).one()
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert flows.client.get("/me").status_code == 302


def test_disabled_user_is_anonymous_at_once(app, flows):
    with app.app_context():
        make_user("tess")
    flows.sign_in("tess", PASSWORD)
    with app.app_context():
        db.session.scalars(select(User).where(User.username == "tess")).one().is_active = False
        db.session.commit()
    assert flows.client.get("/me").status_code == 302


def test_logout_revokes_the_session_row(app, flows):
    with app.app_context():
        make_user("uma")
    flows.sign_in("uma", PASSWORD)
    response = flows.client.get("/logout")
    assert response.headers["Location"] == "/flow/default-invalidation-flow/"
    response = flows.client.get(response.headers["Location"])
    assert response.status_code == 303
    [row] = rows(app)
    assert row.revoked_at is not None
    assert flows.client.get("/me").status_code == 302


def test_cookie_replayed_after_logout_is_anonymous(app, flows):
    with app.app_context():
        make_user("vera")
    flows.sign_in("vera", PASSWORD)
    signed_in_cookie = flows.client.get_cookie("gatehouse_session").value
    flows.client.get("/logout", follow_redirects=True)
    flows.client.set_cookie("gatehouse_session", signed_in_cookie)
    response = flows.client.get("/me")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_logout_from_another_site_asks_for_a_click_first(app, flows):
    from tests.conftest import csrf_token

    with app.app_context():
        make_user("walt")
    flows.sign_in("walt", PASSWORD)
    response = flows.client.get(
        "/flow/default-invalidation-flow/", headers={"Sec-Fetch-Site": "cross-site"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Another site sent you here" in page and ">Sign out</button>" in page
    assert flows.client.get("/me").status_code == 200
    response = flows.client.post(
        "/flow/default-invalidation-flow/", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code == 303
    assert flows.client.get("/me").status_code == 302


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin", "Sec-Purpose": "prefetch"},
        {"Sec-Fetch-Site": "none", "Sec-Purpose": "prefetch;prerender"},
        {"Sec-Fetch-Site": "same-origin", "Purpose": "prefetch"},
    ],
    ids=["prefetch", "prerender", "older-prefetch"],
)
def test_a_prefetched_logout_page_signs_nobody_out(app, flows, headers):
    """The browser fetched the page before anyone chose to open it: it waits for a click."""
    with app.app_context():
        make_user("yuri")
    flows.sign_in("yuri", PASSWORD)
    response = flows.client.get("/flow/default-invalidation-flow/", headers=headers)
    assert response.status_code == 200
    assert ">Sign out</button>" in response.get_data(as_text=True)
    assert flows.client.get("/me").status_code == 200
    same_site = {"Sec-Fetch-Site": "same-origin"}
    flows.client.get("/flow/default-invalidation-flow/", headers=same_site)
    assert flows.client.get("/me").status_code == 302


def test_logout_confirmation_without_csrf_is_refused(app, flows):
    with app.app_context():
        make_user("xena")
    flows.sign_in("xena", PASSWORD)
    flows.client.get("/flow/default-invalidation-flow/", headers={"Sec-Fetch-Site": "cross-site"})
    response = flows.client.post("/flow/default-invalidation-flow/", data={})
    assert response.status_code == 400
    assert flows.client.get("/me").status_code == 200


def test_user_login_without_a_proved_user_denies(app, flows):
    with app.app_context():
        slug = make_flow([{"stage": "default-authentication-login"}])
    response = flows.open(slug)
    assert response.status_code == 403
    assert "There is no one to sign in." in flows.text


def test_me_lists_the_active_sessions(app, flows):
    with app.app_context():
        make_user("yara")
    flows.sign_in("yara", PASSWORD)
    page = flows.client.get("/me", headers={"User-Agent": "TestBrowser/1.0"}).get_data(as_text=True)
    assert "(this browser)" in page
    assert "127.0.0.1" in page
