"""Wrong captcha answers, counted per plan in the database by one atomic upsert: a replayed
cookie or parallel requests cannot reset or outrun the count."""

from datetime import timedelta

from sqlalchemy import delete

from idp.core.database import upsert_for
from idp.core.extensions import db
from idp.models import FailedAttempts
from idp.models.types import utcnow

SCOPE = "captcha"
# Counts of plans long gone are removed as new ones start.
KEPT_FOR = timedelta(days=1)


def count(plan_id: str) -> int:
    """Add one wrong answer for the plan; the count so far."""
    now = utcnow()
    insert = upsert_for(db.session.get_bind())
    counted = db.session.execute(
        insert(FailedAttempts)
        .values(scope=SCOPE, key=_key(plan_id), failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={"failures": FailedAttempts.failures + 1, "last_failure_at": now},
        )
        .returning(FailedAttempts.failures)
    ).scalar_one()
    if counted == 1:
        db.session.execute(
            delete(FailedAttempts).where(
                FailedAttempts.scope == SCOPE, FailedAttempts.last_failure_at < now - KEPT_FOR
            )
        )
    return counted


def purge() -> int:
    """Delete the counts of plans long gone (those new counts have not cleared already);
    how many. The caller commits."""
    stale = FailedAttempts.last_failure_at < utcnow() - KEPT_FOR
    return db.session.execute(
        delete(FailedAttempts).where(FailedAttempts.scope == SCOPE, stale)
    ).rowcount


def forget(plan_id: str) -> None:
    db.session.execute(
        delete(FailedAttempts).where(
            FailedAttempts.scope == SCOPE, FailedAttempts.key == _key(plan_id)
        )
    )


def _key(plan_id: str) -> str:
    return f"plan:{plan_id}"
