"""Time against a running server: the clock is moved (time-machine, which moves the server's
thread too), never slept. A user back after idle minutes gets their page (it was a 500), an
unused session ends after IDP_SESSION_IDLE_TIMEOUT, a plan and a mailed link end at their
lifetime, and nothing a signed-in user sees may be kept by a cache."""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.factories import PASSWORD
from tests.security.visitor import AUTH
from tests.smtp_server import link_in

IDLE = timedelta(minutes=30)
SECOND = timedelta(seconds=1)
RECOVERY = "default-recovery-flow"
CHANGE = "default-password-change"


@pytest.fixture
def signed_in(new_visitor, alice, clock):
    visitor = new_visitor()
    visitor.sign_in("alice")
    assert visitor.is_signed_in
    return visitor


def test_a_user_back_after_idle_minutes_gets_every_page_not_a_500(app, signed_in, clock):
    with app.app_context():
        factories.make_user("root", superuser=True)
    for path in ("/me", "/", f"/flow/{CHANGE}/"):
        clock.shift(timedelta(minutes=2))
        response = signed_in.get(path)
        assert response.status_code in (200, 302, 303), (path, response.status_code)
    clock.shift(timedelta(minutes=2))
    response = signed_in.submit(CHANGE, {"password": PASSWORD})
    assert response.status_code == 303
    assert signed_in.stage == "prompt"


def test_an_unused_session_ends_at_the_idle_timeout(signed_in, clock):
    stolen = signed_in.with_cookie(signed_in.cookie)
    clock.shift(IDLE - SECOND)
    assert signed_in.is_signed_in
    clock.shift(IDLE)
    assert not signed_in.is_signed_in
    assert not stolen.is_signed_in
    assert signed_in.http.get("/me").headers["Location"].startswith("/login")


def test_a_session_in_use_outlives_the_idle_timeout_but_not_its_lifetime(signed_in, clock):
    signed_at = datetime.now(UTC)
    for _ in range(3):
        clock.shift(IDLE - timedelta(minutes=5))
        assert signed_in.is_signed_in
    clock.move_to(signed_at + timedelta(days=1) - timedelta(minutes=5))
    assert not signed_in.is_signed_in  # idle for most of a day


def test_me_says_when_the_session_ends_if_left_idle(signed_in, clock):
    clock.shift(timedelta(minutes=3))
    page = signed_in.get("/me").text
    ends = (datetime.now(UTC) + IDLE).isoformat()
    assert re.search(rf'This session ends at <time datetime="{re.escape(ends)}">', page)


@pytest.mark.parametrize("path", ["/me", "/", f"/flow/{CHANGE}/", "/logout"])
def test_nothing_sent_to_a_signed_in_user_may_be_cached(signed_in, path):
    response = signed_in.http.get(path)
    assert response.headers["Cache-Control"] == "no-store", path


def test_flow_pages_carrying_a_plan_may_not_be_cached(visitor, alice):
    assert visitor.open(AUTH).headers["Cache-Control"] == "no-store"
    response = visitor.submit(AUTH, {"uid_field": "alice"})
    assert response.headers["Cache-Control"] == "no-store"
    assert visitor.get(f"/flow/{AUTH}/").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("age", "is_kept"), [(1800 - 1, True), (1800, False)])
def test_a_plan_ends_at_its_lifetime(visitor, alice, clock, age, is_kept):
    visitor.open(AUTH)
    visitor.submit(AUTH, {"uid_field": "alice"})
    clock.shift(timedelta(seconds=age))
    visitor.submit(AUTH, {"password": PASSWORD})
    assert visitor.is_signed_in is is_kept


@pytest.mark.parametrize(("age", "is_usable"), [(30 * 60 - 1, True), (30 * 60, False)])
def test_a_mailed_link_ends_at_its_lifetime(new_visitor, mailbox, alice, clock, age, is_usable):
    asker = new_visitor()
    asker.open(RECOVERY)
    asker.submit(RECOVERY, {"uid_field": "alice"})
    clock.shift(timedelta(seconds=age))
    path = urlsplit(link_in(mailbox.wait_for(1)[-1])).path
    reader = new_visitor()
    response = reader.get(path, headers={"Sec-Fetch-Site": "none"})  # from a mail program
    assert response.status_code == (303 if is_usable else 410)
    if not is_usable:
        assert "already used or has expired" in reader.text


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("POST", "/admin/users/1/no-such-action", 404),
        ("PUT", "/me", 405),
    ],
)
def test_error_pages_for_a_user_back_after_idle_minutes_are_not_500(
    signed_in, clock, method, path, status
):
    clock.shift(timedelta(minutes=2))
    assert signed_in.http.request(method, path).status_code == status
