"""A refresh under way while its token is revoked, by the client (RFC 7009) or by an admin:
whichever reaches the token first, no token the refresh issues outlives the revocation, and
a revocation is not taken for a theft. Each test pauses the refresh at one point and revokes
from another thread there, as two requests at once would."""

import secrets
import threading

import httpx
import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event
from idp.providers.oauth2 import consents, tokens
from tests.factories import make_user
from tests.http.admin.conftest import post, signed_in
from tests.http.applications.test_oidc_code_consent import refused
from tests.http.applications.test_oidc_consent_expiry import active, first_tokens, refresh
from tests.http.applications.test_oidc_refresh_withdrawal import live_tokens, wait_for_a_lock
from tests.http.applications.test_oidc_rules import exchange, get_code


def by_the_client(app, live_server, client_id, secret, token):
    """RFC 7009: the client revokes its refresh token, and so the family."""

    def send():
        return httpx.post(
            live_server("/application/o/revoke/"),
            data={"token": token["refresh_token"], "token_type_hint": "refresh_token"},
            auth=(client_id, secret),
        )

    return send, "oauth2_token_revoked", 200


def by_an_admin(app, live_server, client_id, secret, token):
    """The admin revokes the token on the application's tokens tab."""
    with app.app_context():
        make_user(username="root", superuser=True)
        token_id = tokens.find(token["refresh_token"], "refresh_token").row.id
    admin = signed_in(app, "root")
    url = f"/admin/applications/rp/tokens/{token_id}/revoke"
    return (lambda: post(admin, url)), "admin_application_token_revoked", 303


REVOKERS = [by_the_client, by_an_admin]


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Event.action)))


def in_a_thread(send, answers: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: answers.append(send()))
    thread.start()
    return thread


@pytest.mark.parametrize("revoker", REVOKERS)
def test_a_token_revoked_before_the_refresh_spends_it_gives_no_token_and_is_no_theft(
    app, live_server, visitor, alice, monkeypatch, revoker
):
    """The refresh has found its token live and checked the user; the revocation commits
    before the token is spent."""
    client_id, secret, token = first_tokens(app, live_server, visitor)
    send, action, status = revoker(app, live_server, client_id, secret, token)
    revoked = []
    spend = tokens.mark_refresh_used

    def revoked_then_spent(token_id):
        in_a_thread(send, revoked).join(30)
        return spend(token_id)

    monkeypatch.setattr(tokens, "mark_refresh_used", revoked_then_spent)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    assert revoked[0].status_code == status
    assert refused(answer), answer.text
    assert "revoked" in answer.json()["error_description"]
    assert live_tokens(app) == []
    assert not active(live_server, client_id, secret, token["access_token"])
    assert not active(live_server, client_id, secret, token["refresh_token"])
    assert action in actions(app)
    assert "oauth2_refresh_reuse_detected" not in actions(app)


@pytest.mark.postgres
@pytest.mark.parametrize("revoker", REVOKERS)
def test_a_token_revoked_while_the_refresh_holds_it_revokes_what_the_refresh_gives(
    app, live_server, visitor, alice, monkeypatch, revoker
):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: the revocation cannot start meanwhile")
    client_id, secret, token = first_tokens(app, live_server, visitor)
    send, action, status = revoker(app, live_server, client_id, secret, token)
    revoked, threads = [], []
    spend = tokens.mark_refresh_used

    def spent_then_revoked(token_id):
        spent = spend(token_id)
        threads.append(in_a_thread(send, revoked))
        wait_for_a_lock()
        return spent

    monkeypatch.setattr(tokens, "mark_refresh_used", spent_then_revoked)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    threads[0].join(30)
    assert answer.status_code == 200, answer.text  # it came first
    assert revoked[0].status_code == status
    given = answer.json()
    assert live_tokens(app) == []
    assert not active(live_server, client_id, secret, given["access_token"])
    assert not active(live_server, client_id, secret, given["refresh_token"])
    assert refused(refresh(live_server, client_id, secret, given["refresh_token"]))
    assert action in actions(app)
    assert "oauth2_refresh_reuse_detected" not in actions(app)


def test_a_refresh_token_spent_meanwhile_is_still_a_theft(app, live_server, visitor, alice,
                                                            monkeypatch):  # fmt: skip
    """The other side of the same check: a parallel refresh that spent the token first (not a
    revocation) still ends the family, with the event."""
    client_id, secret, token = first_tokens(app, live_server, visitor)
    others = []
    hold = tokens.hold_family

    # Once this request has read the token live, just before it holds the family to spend it.
    def spent_by_another_first(family):
        monkeypatch.setattr(tokens, "hold_family", hold)
        others.append(refresh(live_server, client_id, secret, token["refresh_token"]))
        return hold(family)

    monkeypatch.setattr(tokens, "hold_family", spent_by_another_first)
    answer = refresh(live_server, client_id, secret, token["refresh_token"])
    assert others[0].status_code == 200, others[0].text
    assert refused(answer), answer.text
    assert "already used" in answer.json()["error_description"]
    assert not active(live_server, client_id, secret, others[0].json()["access_token"])
    assert live_tokens(app) == []
    assert "oauth2_refresh_reuse_detected" in actions(app)


def test_an_admin_page_left_open_on_a_purged_token_cannot_revoke_the_next_one(
    app, live_server, visitor, alice
):
    """A revoked token is deleted when its user gets the next one; that next token never
    takes its id (SQLite reused the highest id without AUTOINCREMENT)."""
    client_id, secret, token = first_tokens(app, live_server, visitor)
    send, _action, _status = by_an_admin(app, live_server, client_id, secret, token)
    assert send().status_code == 303
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    again = exchange(live_server, client_id, secret, code, verifier)
    assert again.status_code == 200, again.text
    assert send().status_code == 404  # the page's token is gone
    assert active(live_server, client_id, secret, again.json()["access_token"])


@pytest.mark.postgres
def test_a_revocation_waiting_on_a_refresh_that_ends_its_family_does_not_deadlock(
    app, live_server, visitor, alice, monkeypatch
):
    """The refresh holds the family's newest row, finds the consent over (said here by
    consents.still_agreed) and revokes the older rows; the revocation waits for it at
    the newest row before it holds any of them."""
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SQLite runs one writer at a time: the revocation cannot start meanwhile")
    client_id, secret, token = first_tokens(app, live_server, visitor)
    rotated = refresh(live_server, client_id, secret, token["refresh_token"]).json()
    send, _action, status = by_the_client(app, live_server, client_id, secret, rotated)
    revoked, threads = [], []
    spend = tokens.mark_refresh_used

    def spent_then_revoked(token_id):
        spent = spend(token_id)
        threads.append(in_a_thread(send, revoked))
        wait_for_a_lock()
        return spent

    monkeypatch.setattr(tokens, "mark_refresh_used", spent_then_revoked)
    monkeypatch.setattr(consents, "still_agreed", lambda *_: False)
    answer = refresh(live_server, client_id, secret, rotated["refresh_token"])
    threads[0].join(30)
    assert refused(answer), answer.text
    assert revoked[0].status_code == status
    assert live_tokens(app) == []
