"""A token outlives its session when the session ends by time (idle, or past its lifetime): a
refresh token lives on for its own 30 days, refreshed for as long as the application likes.
`idp maintenance purge` keeps an ended session while a token of it still counts, since
deleting the session would take its tokens with it, and deletes it once they have been dead
an hour. Time moves with the test's clock."""

from datetime import timedelta

from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import OAuth2Token, UserSession
from idp.models.types import utcnow
from tests.http.applications.oidc import WITHOUT_CONSENT, make_client
from tests.http.applications.test_oidc_purge import later, purge, refresh, token_for


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def session_has_ended(app) -> bool:
    with app.app_context():
        row = db.session.scalar(select(UserSession))
        return row.ends_at(timedelta(minutes=30)) < utcnow() - timedelta(days=31)


def test_a_refresh_token_from_a_session_ended_long_ago_still_works_after_the_purge(
    app, live_server, visitor, alice, runner, time_machine
):
    # Without a consent stage: the shipped one's consent expires after four weeks, and
    # with it the refresh token (test_oidc_consent_expiry).
    client_id, secret = make_client(app, authorization_flow_slug=WITHOUT_CONSENT)
    token = token_for(visitor, live_server, client_id, secret)
    later(time_machine, days=20)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    assert answer.status_code == 200, answer.text  # its session ended 20 days ago
    token = answer.json()
    later(time_machine, days=12)
    assert session_has_ended(app)

    output = purge(runner)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    assert answer.status_code == 200, answer.text
    assert "Deleted 0 session(s) that ended over 30 days ago." in output
    assert rows(app, UserSession) == 1

    # The last refresh token lives 30 days. Dead for half an hour, it is deleted, and its
    # session kept: a refresh that read it as live just before may still be saving its
    # successor. The next purge finds no token and deletes the session with what is left.
    later(time_machine, days=30, minutes=30)
    output = purge(runner)
    assert "Deleted 0 session(s)" in output
    assert rows(app, UserSession) == 1 and rows(app, OAuth2Token) == 0
    later(time_machine, hours=1)
    assert "Deleted 1 session(s) that ended over 30 days ago." in purge(runner)
    assert rows(app, UserSession) == 0


def test_a_session_ended_long_ago_goes_with_its_dead_tokens(
    app, live_server, visitor, alice, runner, time_machine
):
    client_id, secret = make_client(app)
    token_for(visitor, live_server, client_id, secret, scope="openid profile")  # access only
    later(time_machine, days=31)
    output = purge(runner)
    assert "Deleted 1 session(s) that ended over 30 days ago." in output
    assert "deleted 1 authorization codes, 0 authorization requests, 1 tokens" in output
    assert rows(app, UserSession) == 0 and rows(app, OAuth2Token) == 0
