"""`idp maintenance purge` deletes sessions that ended over 30 days ago (revoked, past their
lifetime or idle too long), and keeps them until then: a session's row is what refuses a
replayed plan cookie a second sign-in. The clock is moved with time-machine, never slept.

The default sign-in gives a session a lifetime of one day, and IDP_SESSION_IDLE_TIMEOUT ends it
after 30 minutes without use."""

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from idp.core.extensions import db
from idp.models import Stage, User, UserSession
from idp.models.types import utcnow
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, make_user

AUTH = "default-authentication-flow"
KEPT = timedelta(days=30)
IDLE = timedelta(minutes=30)
LIFETIME = timedelta(days=1)
SECOND = timedelta(seconds=1)
ALREADY_USED = "This sign-in was already used. Please start again."


@pytest.fixture
def people(app, clock):
    with app.app_context():
        make_user("alice")
        make_user("bob")


def sessions_of(app, username) -> int:
    with app.app_context():
        statement = select(UserSession.id).join(User).where(User.username == username)
        return len(db.session.scalars(statement).all())


def sign_in(app, username) -> FlowDriver:
    browser = FlowDriver(app.test_client())
    browser.sign_in(username, PASSWORD)
    assert browser.client.get("/me").status_code == 200
    return browser


def purge(runner, *args) -> str:
    result = runner.invoke(args=["maintenance", "purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def deleted(count: int, verb: str = "Deleted") -> str:
    return f"{verb} {count} session(s) that ended over 30 days ago."


def end_by_signing_out(app, browser) -> timedelta:
    browser.sign_out()
    assert browser.client.get("/me").status_code == 302
    return timedelta(0)


def end_by_its_lifetime(app, browser) -> timedelta:
    app.config["SESSION_IDLE_TIMEOUT"] = 0  # only the lifetime ends it
    return LIFETIME


def end_by_idling(app, browser) -> timedelta:
    return IDLE


@pytest.mark.parametrize("end", [end_by_signing_out, end_by_its_lifetime, end_by_idling])
@pytest.mark.parametrize(("since_it_ended", "is_kept"), [(KEPT, True), (KEPT + SECOND, False)])
def test_purge_deletes_a_session_only_once_it_ended_over_thirty_days_ago(
    app, runner, people, clock, end, since_it_ended, is_kept
):
    alice = sign_in(app, "alice")
    ends_after = end(app, alice)
    clock.shift(ends_after + since_it_ended)
    assert alice.client.get("/me").status_code == 302  # it has ended, whatever the purge does
    sign_in(app, "bob")  # alive, and kept

    output = purge(runner)

    assert deleted(0 if is_kept else 1) in output
    assert sessions_of(app, "alice") == (1 if is_kept else 0)
    assert sessions_of(app, "bob") == 1


def test_purge_keeps_a_session_still_alive_however_old(app, runner, people, clock):
    app.config["SESSION_IDLE_TIMEOUT"] = 0
    with app.app_context():
        stage = db.session.scalar(select(Stage).where(Stage.name == "default-authentication-login"))
        stage.options = {**stage.options, "session_duration": "400d"}
        db.session.commit()
    alice = sign_in(app, "alice")
    clock.shift(timedelta(days=300))

    assert deleted(0) in purge(runner)
    assert alice.client.get("/me").status_code == 200

    end_by_signing_out(app, alice)
    clock.shift(KEPT + SECOND)
    assert deleted(1) in purge(runner)
    assert sessions_of(app, "alice") == 0


def test_purge_dry_run_counts_the_ended_sessions_and_deletes_none(app, runner, people, clock):
    for username in ("alice", "bob"):
        end_by_signing_out(app, sign_in(app, username))
    clock.shift(KEPT + SECOND)

    assert deleted(2, "Would delete") in purge(runner, "--dry-run")
    assert sessions_of(app, "alice") == sessions_of(app, "bob") == 1
    assert deleted(2) in purge(runner)
    assert sessions_of(app, "alice") == sessions_of(app, "bob") == 0


def test_a_replayed_plan_cookie_is_still_refused_after_the_purge(app, runner, people, clock):
    longest_plan = timedelta(days=1)  # IDP_FLOW_PLAN_LIFETIME's upper bound
    app.config["FLOW_PLAN_LIFETIME"] = int(longest_plan.total_seconds())
    browser = FlowDriver(app.test_client())
    browser.open(AUTH)
    browser.submit(AUTH, {"uid_field": "alice"})
    before_password = browser.client.get_cookie("gatehouse_session").value
    token = csrf_token(browser.page)
    browser.submit(AUTH, {"password": PASSWORD})
    end_by_signing_out(app, browser)
    clock.shift(longest_plan - SECOND)  # the copied plan has not expired yet

    assert deleted(0) in purge(runner)
    browser.client.set_cookie("gatehouse_session", before_password)
    response = browser.client.post(
        f"/flow/{AUTH}/", data={"password": PASSWORD, "csrf_token": token}, follow_redirects=True
    )

    assert ALREADY_USED in response.get_data(as_text=True)
    assert browser.client.get("/me").status_code == 302
    assert sessions_of(app, "alice") == 1


def test_a_first_purge_on_a_busy_site_deletes_more_sessions_than_one_statement_can_name(
    app, runner, people, clock
):
    """PostgreSQL takes at most 65,535 parameters in one statement: the sessions are deleted
    a batch of keys at a time (idp.identity.deletion), and a purge that finds more than that
    still ends (it used to fail, every time, on PostgreSQL)."""
    many = 65_536
    ended = utcnow() - KEPT - timedelta(days=2)
    with app.app_context():
        alice = db.session.scalar(select(User).where(User.username == "alice"))
        rows = [
            {"key_hash": f"{index:064x}", "user_id": alice.id, "created_at": ended}
            | {"last_seen_at": ended, "expires_at": ended + LIFETIME}
            for index in range(many)
        ]
        db.session.execute(insert(UserSession), rows)
        db.session.commit()
    sign_in(app, "bob")

    assert deleted(many) in purge(runner)
    assert sessions_of(app, "alice") == 0 and sessions_of(app, "bob") == 1
