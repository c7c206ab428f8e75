"""Sessions as time passes: the clock is moved with time-machine, never slept.

The default sign-in gives a session a lifetime of one day (user_login's session_duration) and
IDP_SESSION_IDLE_TIMEOUT ends it after 30 minutes without use; use is written down at most
once a minute (LAST_SEEN_RESOLUTION)."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from idp.core.config import ConfigError, load_settings
from idp.core.extensions import db
from idp.identity.sessions import LAST_SEEN_RESOLUTION
from idp.models import Stage, UserSession
from tests import factories
from tests.factories import PASSWORD

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(days=1)
SECOND = timedelta(seconds=1)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def alice(app):
    with app.app_context():
        return factories.make_user("alice", email="alice@example.test", superuser=True).id


@pytest.fixture
def signed_in(client, flows, alice, clock):
    flows.sign_in("alice", PASSWORD)
    assert is_signed_in(client)
    return client


def is_signed_in(client) -> bool:
    response = client.get("/me")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def last_seen(app) -> datetime:
    with app.app_context():
        return db.session.scalar(select(UserSession.last_seen_at))


def test_a_user_back_after_two_minutes_idle_sees_their_page(signed_in, clock):
    clock.shift(timedelta(minutes=2))
    response = signed_in.get("/me")
    assert response.status_code == 200
    assert "alice" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/me",
        "/admin/",
        "/admin/users",
        "/admin/flows/default-authentication-flow/",
        "/flow/default-password-change/",
        "/",
    ],
)
def test_every_page_of_a_user_back_after_idle_minutes_answers(signed_in, clock, path):
    clock.shift(timedelta(minutes=5))
    assert signed_in.get(path).status_code in (200, 302, 303)


def test_a_post_of_a_user_back_after_idle_minutes_works(signed_in, flows, clock):
    flows.open("default-password-change")
    clock.shift(timedelta(minutes=5))
    response = flows.submit("default-password-change", {"password": PASSWORD})
    assert response.status_code == 303
    assert flows.stage == "prompt"


def test_last_seen_is_written_once_a_minute_at_most(app, signed_in, clock):
    signed_at = last_seen(app)
    clock.shift(LAST_SEEN_RESOLUTION)
    signed_in.get("/me")
    assert last_seen(app) == signed_at
    clock.shift(SECOND)
    signed_in.get("/me")
    assert last_seen(app) == signed_at + LAST_SEEN_RESOLUTION + SECOND


def test_a_session_left_idle_ends_at_the_idle_timeout_not_a_second_later(signed_in, clock):
    clock.shift(IDLE - SECOND)
    assert is_signed_in(signed_in)
    clock.shift(IDLE)  # measured from the request just made
    assert not is_signed_in(signed_in)
    clock.shift(-IDLE)  # back in time, the ended session does not come back either
    assert not is_signed_in(signed_in)


def test_use_keeps_a_session_alive_past_the_idle_timeout(signed_in, clock):
    for _ in range(9):  # three hours, a request every twenty minutes
        clock.shift(timedelta(minutes=20))
        assert is_signed_in(signed_in)


def test_unwritten_use_ends_a_session_less_than_a_minute_early_never_late(signed_in, clock):
    clock.shift(timedelta(seconds=50))
    assert is_signed_in(signed_in)  # used, but within a minute of the sign-in: not written
    used_at = now()
    clock.move_to(used_at + IDLE - timedelta(seconds=50) - SECOND)
    assert is_signed_in(signed_in)  # this request is written: it sets the idle clock again
    clock.move_to(now() + IDLE)
    assert not is_signed_in(signed_in)


def test_unwritten_use_just_before_the_end_cannot_stretch_the_session(app, signed_in, clock):
    clock.shift(IDLE - SECOND)
    assert is_signed_in(signed_in)
    written = last_seen(app)
    clock.shift(timedelta(seconds=30))
    assert is_signed_in(signed_in)  # within the resolution: nothing written
    assert last_seen(app) == written
    clock.move_to(written + IDLE)
    assert not is_signed_in(signed_in)


def test_a_session_in_use_ends_at_its_lifetime(signed_in, clock):
    signed_at = now()
    while now() < signed_at + LIFETIME - timedelta(minutes=20):
        clock.shift(timedelta(minutes=20))
        assert is_signed_in(signed_in)
    clock.move_to(signed_at + LIFETIME - SECOND)
    assert is_signed_in(signed_in)
    clock.move_to(signed_at + LIFETIME)
    assert not is_signed_in(signed_in)


def test_without_an_idle_limit_only_the_lifetime_ends_a_session(app, signed_in, clock):
    app.config["SESSION_IDLE_TIMEOUT"] = 0
    signed_at = now()
    clock.shift(LIFETIME - SECOND)
    assert is_signed_in(signed_in)
    clock.move_to(signed_at + LIFETIME)
    assert not is_signed_in(signed_in)


def test_a_long_session_in_use_is_not_signed_out_by_the_age_of_its_cookie(
    app, client, flows, alice, clock
):
    """A sign-in may last 400 days; plain pages do not sign the cookie again, and Flask
    refused one signed more than 31 days ago (its default): the session ended a month in."""
    app.config["SESSION_IDLE_TIMEOUT"] = 0
    longest = timedelta(days=400)
    with app.app_context():
        stage = db.session.scalar(select(Stage).where(Stage.name == "default-authentication-login"))
        stage.options = {**stage.options, "session_duration": "400d"}
        db.session.commit()
    flows.sign_in("alice", PASSWORD)
    signed_at = now()
    while now() + timedelta(days=30) < signed_at + longest:
        clock.shift(timedelta(days=30))  # a visit a month
        assert is_signed_in(client), now() - signed_at
    clock.move_to(signed_at + longest - SECOND)
    assert is_signed_in(client)
    clock.move_to(signed_at + longest)
    assert not is_signed_in(client)


def test_an_idle_ended_session_is_gone_from_the_users_list_and_the_dashboard(
    app, client, flows, alice, clock
):
    flows.sign_in("alice", PASSWORD)
    other = app.test_client()
    from tests.conftest import FlowDriver

    FlowDriver(other).sign_in("alice", PASSWORD)
    clock.shift(IDLE - SECOND)
    page = client.get("/me").get_data(as_text=True)
    assert page.count("Sign out there") == 1
    clock.shift(timedelta(minutes=1))  # the other browser has been idle 30 minutes by now
    page = client.get("/me").get_data(as_text=True)
    assert "Sign out there" not in page
    with app.app_context():
        from idp.admin.dashboard.routes import counts

        assert counts()["sessions"] == 1


def test_me_shows_when_this_session_ends_if_left_idle(signed_in, clock):
    clock.shift(timedelta(minutes=5))
    page = signed_in.get("/me").get_data(as_text=True)
    ends = now() + IDLE
    assert f'ends at <time datetime="{ends.isoformat()}">' in page
    assert "if left idle (30 minutes without use)" in page


@pytest.mark.parametrize(
    "path", ["/me", "/admin/", "/flow/default-password-change/", "/", "/logout"]
)
def test_answers_to_a_signed_in_user_are_never_stored(signed_in, path):
    response = signed_in.get(path)
    assert response.headers["Cache-Control"] == "no-store"


def test_answers_to_a_visitor_with_a_plan_are_never_stored(client):
    assert client.get("/flow/default-authentication-flow/").headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("value", "seconds"), [(None, 1800), ("0", 0), ("300", 300), ("86400", 86400)]
)
def test_the_idle_timeout_setting(tmp_path, value, seconds):
    environ = {"IDP_SESSION_IDLE_TIMEOUT": value} if value is not None else {}
    assert load_settings(environ, str(tmp_path))["SESSION_IDLE_TIMEOUT"] == seconds


@pytest.mark.parametrize("value", ["60", "-1", "half an hour"])
def test_an_idle_timeout_that_would_end_sessions_in_use_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="IDP_SESSION_IDLE_TIMEOUT"):
        load_settings({"IDP_SESSION_IDLE_TIMEOUT": value}, str(tmp_path))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/no/such/page", 404),
        ("GET", "/admin/users/1/authenticators/sms/0/remove", 404),
        ("POST", "/admin/users/1/authenticators/sms/0/remove", 404),
        ("PUT", "/me", 405),
        ("GET", "/flow/no-such-flow/", 404),
    ],
)
def test_error_pages_for_a_signed_in_user_back_after_idle_minutes_are_not_500(
    signed_in, clock, method, path, status
):
    clock.shift(timedelta(minutes=2))
    response = signed_in.open(path, method=method)
    assert response.status_code == status
    assert "alice" in response.get_data(as_text=True)  # the page still knows who is signed in
