"""Failed sign-in counters, kept in the database and changed by single atomic statements."""

from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite

from idp.extensions import db
from idp.models import FailedAttempts
from idp.models.types import utcnow

ACCOUNT = "account"
CLIENT_IP = "ip"

_INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def record_failure(scope: str, key: str) -> int:
    """Add one failure and return the new count, in one INSERT … ON CONFLICT statement."""
    now = utcnow()
    insert = _INSERT_BY_DIALECT[db.session.get_bind().dialect.name]
    statement = (
        insert(FailedAttempts)
        .values(scope=scope, key=key[:255], failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={"failures": FailedAttempts.failures + 1, "last_failure_at": now},
        )
        .returning(FailedAttempts.failures)
    )
    return db.session.execute(statement).scalar_one()


def undo_failure(scope: str, key: str) -> None:
    """Take back the failure counted up front for an attempt that turned out to succeed."""
    db.session.execute(
        update(FailedAttempts)
        .where(
            FailedAttempts.scope == scope,
            FailedAttempts.key == key[:255],
            FailedAttempts.failures > 0,
        )
        .values(failures=FailedAttempts.failures - 1)
    )


def clear_failures(scope: str, key: str) -> None:
    db.session.execute(
        delete(FailedAttempts).where(FailedAttempts.scope == scope, FailedAttempts.key == key[:255])
    )
