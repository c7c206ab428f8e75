"""Dead OpenID Connect rows go: codes and requests that were used or expired, tokens that were
revoked or expired; `idp maintenance purge` clears all of them, and every new code or token
clears the dead ones of that user at that application. Time moves with the test's clock."""

import secrets
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import AuthorizationCode, AuthorizationRequest, OAuth2Token
from idp.models.types import utcnow
from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import authorize_url, exchange, get_code


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def counts(app) -> tuple[int, int, int]:
    return rows(app, AuthorizationCode), rows(app, AuthorizationRequest), rows(app, OAuth2Token)


def token_for(visitor, live_server, client_id, secret, scope="openid profile offline_access"):
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier, scope=scope)
    response = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()


def refresh(live_server, client_id, secret, refresh_token):
    return httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token},
        auth=(client_id, secret),
    )


def purge(runner, *args) -> str:
    result = runner.invoke(args=["maintenance", "purge", *args])
    assert result.exit_code == 0, result.output
    return result.output


def later(time_machine, **duration):
    time_machine.move_to(utcnow() + timedelta(**duration))


def abandon_a_consent(visitor, client_id):
    """Open the consent page again (prompt=consent) and walk away: an unused request."""
    url = authorize_url(client_id, secrets.token_urlsafe(48), prompt="consent")
    kind, page = visitor.authorize(url, "alice", consent=False)
    assert kind == "page" and "will receive" in page.text


def test_maintenance_purge_deletes_what_no_longer_counts_and_keeps_the_rest(
    app, live_server, visitor, alice, runner, time_machine
):
    client_id, secret = make_client(app)
    offline = token_for(visitor, live_server, client_id, secret)
    online = token_for(visitor, live_server, client_id, secret, scope="openid profile")
    get_code(visitor, client_id, secrets.token_urlsafe(48))  # a code nobody exchanges
    abandon_a_consent(visitor, client_id)
    assert counts(app) == (3, 1, 2)

    assert "would delete 0 authorization codes, 0 authorization requests, 0 tokens" in purge(
        runner, "--dry-run"
    )
    later(time_machine, minutes=2)
    # The unexchanged code has expired; the used ones stay a day, to catch a replay; the
    # consent left open has half an hour.
    assert "would delete 1 authorization codes, 0 authorization requests" in purge(
        runner, "--dry-run"
    )
    assert counts(app) == (3, 1, 2)
    assert "deleted 1 authorization codes, 0 authorization requests, 0 tokens" in purge(runner)
    assert counts(app) == (2, 1, 2)

    later(time_machine, days=1, minutes=5)
    purge(runner)
    # The access-only token has expired; the refresh token lives 30 days.
    assert counts(app) == (0, 0, 1)
    assert "access_token" in online
    fresh = refresh(live_server, client_id, secret, offline["refresh_token"])
    assert fresh.status_code == 200

    later(time_machine, days=31)
    purge(runner)
    assert counts(app) == (0, 0, 0)


def test_a_revoked_token_is_purged_at_once(app, live_server, visitor, alice, runner):
    client_id, secret = make_client(app)
    token = token_for(visitor, live_server, client_id, secret)
    revoked = httpx.post(
        live_server("/application/o/revoke/"),
        data={"token": token["refresh_token"]},
        auth=(client_id, secret),
    )
    assert revoked.status_code == 200
    assert "deleted 0 authorization codes, 0 authorization requests, 1 tokens" in purge(runner)
    assert rows(app, OAuth2Token) == 0


def test_a_new_code_clears_the_users_dead_codes_and_requests_at_that_application(
    app, live_server, visitor, alice, time_machine
):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    abandon_a_consent(visitor, client_id)
    # The consent's request was spent and cleared when its code was made.
    assert rows(app, AuthorizationCode) == 1 and rows(app, AuthorizationRequest) == 1
    later(time_machine, minutes=31)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    # The expired code and the expired request went; the new code is the one left.
    assert rows(app, AuthorizationCode) == 1 and rows(app, AuthorizationRequest) == 0
    with app.app_context():
        assert db.session.scalar(select(AuthorizationCode.expires_at)) > utcnow()


def test_a_new_token_clears_dead_tokens_but_a_used_refresh_token_still_reveals_a_theft(
    app, live_server, visitor, alice, time_machine
):
    client_id, secret = make_client(app)
    first = token_for(visitor, live_server, client_id, secret)
    second = refresh(live_server, client_id, secret, first["refresh_token"]).json()
    token_for(visitor, live_server, client_id, secret, scope="openid")
    assert rows(app, OAuth2Token) == 3
    later(time_machine, minutes=15)
    # Every access token has expired; a new one clears the access-only one, and keeps the
    # rows whose refresh tokens live on, the used one included.
    third = refresh(live_server, client_id, secret, second["refresh_token"]).json()
    assert rows(app, OAuth2Token) == 3
    stolen = refresh(live_server, client_id, secret, first["refresh_token"])
    assert stolen.json()["error"] == "invalid_grant"
    assert refresh(live_server, client_id, secret, third["refresh_token"]).status_code == 400


def test_a_purged_code_leaves_its_tokens_to_no_later_code(
    app, live_server, visitor, alice, runner, time_machine
):
    """SQLite does not set the tokens' code to NULL by itself, and gives a purged code's id
    to the next code made: replaying that code must revoke what it gave, and no more."""
    client_id, secret = make_client(app)
    before = token_for(visitor, live_server, client_id, secret)
    later(time_machine, days=1, minutes=5)
    purge(runner)
    assert rows(app, AuthorizationCode) == 0
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    after = exchange(live_server, client_id, secret, code, verifier).json()
    assert exchange(live_server, client_id, secret, code, verifier).status_code == 400
    assert refresh(live_server, client_id, secret, after["refresh_token"]).status_code == 400
    assert refresh(live_server, client_id, secret, before["refresh_token"]).status_code == 200
