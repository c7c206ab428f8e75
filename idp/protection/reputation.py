"""Reputation scores per username and per client IP: down on failed sign-ins, up on
successful ones, forgotten a day after the last change."""

import functools
from datetime import timedelta

from sqlalchemy import Integer, bindparam, case, delete, func, select

from idp.core.database import upsert_for_dialect
from idp.core.extensions import db
from idp.models import ReputationScore
from idp.models.types import utcnow

USERNAME = "username"
CLIENT_IP = "ip"
LOWEST, HIGHEST = -100, 100
REMEMBERED_FOR = timedelta(days=1)


def change_score(scope: str, key: str, amount: int) -> None:
    """Move a score by `amount`, in one atomic statement; an expired score restarts at 0."""
    change_scores([(scope, key)], amount)


def change_scores(keys, amount: int) -> None:
    """Move the scores of several (scope, key) pairs by `amount`, each in one atomic upsert."""
    rows = [(scope, key[:255]) for scope, key in keys if key]
    if not rows:
        return
    now = utcnow()
    shared = {
        "amount": amount,
        "first_score": max(LOWEST, min(HIGHEST, amount)),
        "now": now,
        "expires": now + REMEMBERED_FOR,
    }
    # One execution with a parameter set per row: SQLAlchemy cannot cache a multi-row VALUES.
    db.session.execute(
        _change_statement(db.session.get_bind().dialect.name),
        [{**shared, "row_scope": scope, "row_key": key} for scope, key in rows],
    )


@functools.cache
def _change_statement(dialect_name: str):
    """Built once, with bound parameters: building it cost more than running it."""
    table = ReputationScore.__table__
    now = bindparam("now", type_=table.c.updated_at.type)
    expires = bindparam("expires", type_=table.c.expires_at.type)
    amount = bindparam("amount", type_=Integer())
    start = case((table.c.expires_at < now, 0), else_=table.c.score)
    if dialect_name == "postgresql":
        bounded = func.greatest(LOWEST, func.least(HIGHEST, start + amount))
    else:  # SQLite's two-argument max() and min() are scalar functions
        bounded = func.max(LOWEST, func.min(HIGHEST, start + amount))
    return (
        upsert_for_dialect(dialect_name)(table)
        .values(
            scope=bindparam("row_scope"),
            key=bindparam("row_key"),
            score=bindparam("first_score", type_=Integer()),
            updated_at=now,
            expires_at=expires,
        )
        .on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={"score": bounded, "updated_at": now, "expires_at": expires},
        )
    )


def record_sign_in(username: str, ip: str, succeeded: bool) -> None:
    change_scores([(USERNAME, username.lower()), (CLIENT_IP, ip)], 1 if succeeded else -1)


def current_score(scope: str, key: str) -> int:
    row = db.session.scalar(
        select(ReputationScore).where(ReputationScore.scope == scope, ReputationScore.key == key)
    )
    if row is None or row.expires_at < utcnow():
        return 0
    return row.score


def purge() -> int:
    """Delete the scores that expired (a score that expired counts as 0, as a missing one
    does); how many. The caller commits."""
    expired = ReputationScore.expires_at < utcnow()
    return db.session.execute(delete(ReputationScore).where(expired)).rowcount
