"""A refresh under way while the user withdraws their consent: whichever reaches the token
first, no token the refresh issues outlives the withdrawal. Each test pauses the refresh at
one point and withdraws from another thread there, as two requests at once would."""

import threading
import time

import pytest
from sqlalchemy import select, text

from idp.core.extensions import db
from idp.models import OAuth2Token
from idp.providers.oauth2 import tokens
from tests.http.applications.test_oidc_code_consent import refused, withdrawal
from tests.http.applications.test_oidc_consent_expiry import first_tokens, refresh


def live_tokens(app) -> list:
    with app.app_context():
        return db.session.scalars(select(OAuth2Token).where(OAuth2Token.revoked_at.is_(None))).all()


def test_a_consent_withdrawn_before_the_refresh_spends_its_token_gives_no_token(
    app, live_server, visitor, alice, monkeypatch
):
    """The refresh has found its token and checked the user; the withdrawal commits before
    the token is spent."""
    client_id, secret, token = first_tokens(app, live_server, visitor)
    withdraw = withdrawal(app, visitor)
    withdrawn = []
    spend = tokens.mark_refresh_used

    def withdrawn_then_spent(token_id):
        withdrawn.append(withdraw())  # served by another thread, before this one goes on
        return spend(token_id)

    monkeypatch.setattr(tokens, "mark_refresh_used", withdrawn_then_spent)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    assert withdrawn[0].status_code == 303
    assert refused(answer), answer.text
    assert live_tokens(app) == []


def wait_for_a_lock() -> None:
    """Until a statement of another request waits for a row this one holds."""
    with db.engine.connect() as connection:
        for _attempt in range(100):
            waiting = connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar()
            if waiting:
                return
            connection.rollback()
            time.sleep(0.05)
    raise AssertionError("the withdrawal never waited for the refresh")


@pytest.mark.postgres
def test_a_consent_withdrawn_while_the_refresh_holds_its_token_revokes_what_it_gives(
    app, live_server, visitor, alice, monkeypatch
):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: the withdrawal cannot start meanwhile")
    client_id, secret, token = first_tokens(app, live_server, visitor)
    withdraw = withdrawal(app, visitor)
    withdrawn = []
    spend = tokens.mark_refresh_used

    def spent_then_withdrawn(token_id):
        spent = spend(token_id)
        thread = threading.Thread(target=lambda: withdrawn.append(withdraw()))
        thread.start()
        wait_for_a_lock()
        threads.append(thread)
        return spent

    threads = []
    monkeypatch.setattr(tokens, "mark_refresh_used", spent_then_withdrawn)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    threads[0].join(30)
    assert answer.status_code == 200, answer.text  # it came first
    assert withdrawn[0].status_code == 303
    assert live_tokens(app) == []
