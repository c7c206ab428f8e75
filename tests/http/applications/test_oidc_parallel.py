"""Races a thief would try (RFC 9700 4.1.2 and 4.14.2): the same code or the same refresh token
sent by several requests at once. Exactly one wins; the others are refused, and what the
winner got is revoked as soon as a replay is seen."""

import base64
import secrets
import threading

import httpx
from sqlalchemy import delete, event, select

from idp.core.extensions import db
from idp.models import OAuth2Token, SigningKey
from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

RACERS = 6


def basic(client_id, secret) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


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
    # RFC 9700 4.14.2: exactly one exchange wins (none would mean a refresh token could be
    # spent without anything issued); the others are invalid_grant.
    assert sum(answer.status_code == 200 for answer in answers) == 1
    assert all(
        answer.json()["error"] == "invalid_grant" for answer in answers if answer.status_code != 200
    )
    assert live_tokens(app) == []  # reuse was seen: the whole family is revoked


def test_spending_a_code_and_saving_its_tokens_are_one_transaction_without_keys_yet(
    app, visitor, alice
):
    """In a database without signing keys (written before keys were made with the
    application), the first token signed makes them, and commits them at once. That commit
    must not fall between spending the code and saving the tokens, or a replay in between
    would find nothing to revoke."""
    client_id, secret = make_client(app)
    with app.app_context():
        db.session.execute(delete(SigningKey))
        db.session.commit()
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    with app.app_context():
        assert db.session.scalar(select(SigningKey.id)) is None  # nothing signed yet
        engine = db.engine
    steps = []

    def statement(_conn, _cursor, sql, *_args):
        if sql.startswith("UPDATE oauth2_authorization_codes"):
            steps.append("spend")
        elif sql.startswith("INSERT INTO oauth2_tokens"):
            steps.append("save")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", lambda _conn: steps.append("commit"))
    try:
        answer = app.test_client().post(
            "/application/o/token/",
            data={"grant_type": "authorization_code", "code": code,
                  "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
            headers={"Authorization": basic(client_id, secret)},
        )  # fmt: skip
    finally:
        event.remove(engine, "before_cursor_execute", statement)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    spent, saved = steps.index("spend"), steps.index("save")
    assert "commit" not in steps[spent:saved], steps
