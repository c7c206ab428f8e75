"""Wrong captcha answers, counted per plan in the database (atomic UPDATEs): a replayed cookie
or parallel requests cannot reset or outrun the count."""

from datetime import timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.models import FailedAttempts
from idp.models.types import utcnow

SCOPE = "captcha"
# Counts of plans long gone are removed as new ones start.
KEPT_FOR = timedelta(days=1)


def count(plan_id: str) -> int:
    """Add one wrong answer for the plan; the count so far."""
    now = utcnow()
    counted = db.session.execute(
        update(FailedAttempts)
        .where(FailedAttempts.scope == SCOPE, FailedAttempts.key == _key(plan_id))
        .values(failures=FailedAttempts.failures + 1, last_failure_at=now)
        .returning(FailedAttempts.failures)
    ).scalar()
    if counted is not None:
        return counted
    db.session.execute(
        delete(FailedAttempts).where(
            FailedAttempts.scope == SCOPE, FailedAttempts.last_failure_at < now - KEPT_FOR
        )
    )
    try:
        with db.session.begin_nested():
            db.session.add(
                FailedAttempts(scope=SCOPE, key=_key(plan_id), failures=1, last_failure_at=now)
            )
    except IntegrityError:  # a parallel answer of the same plan counted first
        return count(plan_id)
    return 1


def forget(plan_id: str) -> None:
    db.session.execute(
        delete(FailedAttempts).where(
            FailedAttempts.scope == SCOPE, FailedAttempts.key == _key(plan_id)
        )
    )


def _key(plan_id: str) -> str:
    return f"plan:{plan_id}"
