"""Races a thief would try (RFC 9700 4.1.2 and 4.14.2): the same code or the same refresh token
sent by several requests at once. Exactly one wins; the others are refused, and what the
winner got is revoked as soon as a replay is seen."""

import secrets
import threading

import httpx
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import OAuth2Token
from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

RACERS = 6


def at_once(send) -> list[httpx.Response]:
    """`send()` from several threads released together."""
    barrier = threading.Barrier(RACERS)
    answers = [None] * RACERS

    def run(index):
        barrier.wait()
        answers[index] = send()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def live_tokens(app) -> list[OAuth2Token]:
    with app.app_context():
        return db.session.scalars(select(OAuth2Token).where(OAuth2Token.revoked_at.is_(None))).all()


def test_a_code_exchanged_in_parallel_wins_once_and_the_replays_revoke_it(
    app, live_server, visitor, alice
):
    client_id, secret = make_client(app)
    httpx.get(live_server("/application/o/rp/jwks/"))  # the signing keys exist before the race
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    answers = at_once(lambda: exchange(live_server, client_id, secret, code, verifier))
    winners = [answer for answer in answers if answer.status_code == 200]
    assert len(winners) == 1, [answer.text for answer in answers]
    assert all(
        answer.json()["error"] == "invalid_grant" for answer in answers if answer not in winners
    )
    assert live_tokens(app) == []  # a replay came after the win: what it issued is revoked
    userinfo = httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {winners[0].json()['access_token']}"},
    )
    assert userinfo.status_code == 401


def test_a_refresh_token_used_in_parallel_ends_the_family(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    first = exchange(live_server, client_id, secret, code, verifier).json()

    def refresh():
        return httpx.post(
            live_server("/application/o/token/"),
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            auth=(client_id, secret),
        )

    answers = at_once(refresh)
    assert sum(answer.status_code == 200 for answer in answers) <= 1
    assert all(
        answer.json()["error"] == "invalid_grant" for answer in answers if answer.status_code != 200
    )
    assert live_tokens(app) == []  # reuse was seen: the whole family is revoked
