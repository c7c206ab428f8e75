"""Hourly limits on mailed links, counted in atomic rows.

Each mail takes one count from every key it is limited by (the recipient, the client IP, or
the user's trusted device) before it is made. A count is one upsert that adds one only while
the key is under its limit, so parallel requests and replayed cookies cannot outrun it: of 50
requests at once, exactly `limit` get a count.

A key's hour starts with its first mail after the previous hour ended; at most `limit` mails
leave within it.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, delete, select, update

from idp.core.database import upsert_for
from idp.core.extensions import db
from idp.models import MailSendCount
from idp.models.types import utcnow

RECIPIENT = "recipient"
CLIENT_IP = "ip"
DEVICE = "device"
WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Limit:
    scope: str
    key: str
    per_hour: int


def take_send(limits: list[Limit]) -> bool:
    """Count one mail against every limit, or against none when one of them is reached.

    In the request's own transaction: a request that fails afterwards sends nothing and
    gives its counts back with the rollback. Keys are taken in the order given; callers
    give the same order (recipient or device first, then IP), so two requests never wait
    on each other's rows in a cycle."""
    connection = db.session.connection()
    taken = []
    for limit in limits:
        if not _take(connection, limit):
            for earlier in taken:
                _give_back(connection, earlier)
            return False
        taken.append(limit)
    return True


def sends_of(scope: str, key: str) -> int:
    """Mails counted for the key in its current hour (0 once the hour is over)."""
    row = db.session.scalar(
        select(MailSendCount).where(MailSendCount.scope == scope, MailSendCount.key == key[:255])
    )
    if row is None or row.window_started_at <= utcnow() - WINDOW:
        return 0
    return row.sends


def _take(connection, limit: Limit) -> bool:
    now = utcnow()
    table = MailSendCount.__table__
    hour_is_over = table.c.window_started_at <= now - WINDOW
    counted = connection.execute(
        upsert_for(connection)(MailSendCount)
        .values(scope=limit.scope, key=limit.key[:255], sends=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={
                "sends": case((hour_is_over, 1), else_=table.c.sends + 1),
                "window_started_at": case((hour_is_over, now), else_=table.c.window_started_at),
            },
            where=hour_is_over | (table.c.sends < limit.per_hour),
        )
        .returning(table.c.sends)
    ).scalar()
    return counted is not None


def _give_back(connection, limit: Limit) -> None:
    # The row is locked by this transaction since _take counted it.
    connection.execute(
        update(MailSendCount)
        .where(MailSendCount.scope == limit.scope, MailSendCount.key == limit.key[:255])
        .values(sends=MailSendCount.sends - 1)
    )


def purge() -> int:
    """Delete the counts whose hour is over (the next mail would start a new hour at one);
    how many. The caller commits."""
    hour_is_over = MailSendCount.window_started_at <= utcnow() - WINDOW
    return db.session.execute(delete(MailSendCount).where(hour_is_over)).rowcount
