"""The database enforces the foreign keys the models declare, on SQLite as on PostgreSQL: a
DELETE written in SQL (no ORM cascade in between) cascades, sets null or is refused."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from idp.core.extensions import db, sqlite_foreign_keys_off
from idp.models import Event, User, UserSession
from idp.models.types import utcnow
from tests.factories import make_user


def add_session(user_id: int, key: str) -> None:
    db.session.add(UserSession(key_hash=key * 64, user_id=user_id, expires_at=utcnow()))
    db.session.commit()


def test_deleting_a_user_deletes_their_sessions_and_keeps_their_events_unnamed(app_context):
    user, other = make_user(), make_user()
    add_session(user.id, "a")
    add_session(other.id, "b")
    db.session.add(Event(action="login", user_id=user.id, username=user.username))
    db.session.commit()
    db.session.execute(sa.delete(User).where(User.id == user.id))
    db.session.commit()
    assert db.session.scalars(sa.select(UserSession.user_id)).all() == [other.id]
    event = db.session.scalars(sa.select(Event).where(Event.action == "login")).one()
    assert event.user_id is None
    assert event.username == user.username


def test_a_session_for_a_user_who_does_not_exist_is_refused(app_context):
    user = make_user()
    db.session.execute(sa.delete(User).where(User.id == user.id))
    db.session.commit()
    with pytest.raises(IntegrityError):
        add_session(user.id, "c")
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 0


def test_a_connection_left_without_foreign_keys_is_not_used_again(app_context):
    """Migrations run with SQLite's foreign keys off; if one fails inside its transaction,
    the pragma that turns them on again does nothing there, so the connection is dropped."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL's foreign keys cannot be switched off")
    db.session.remove()
    with (
        pytest.raises(RuntimeError),
        db.engine.connect() as connection,
        sqlite_foreign_keys_off(connection),
    ):
        connection.execute(sa.insert(Event).values(action="half-done", detail={}))
        raise RuntimeError("a migration failed")
    for _ in range(3):  # whichever pooled connection comes next
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    assert db.session.scalar(sa.select(Event).where(Event.action == "half-done")) is None
