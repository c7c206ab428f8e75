"""Small pieces every admin page uses."""

from contextlib import contextmanager
from dataclasses import dataclass

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from idp.core.database import refused_as_taken
from idp.core.extensions import begin_sqlite_write, db
from idp.flows.revision import new_revision

# A form sent back with its messages: the request was understood but not accepted.
INVALID = 400


def current_admin():
    """The signed-in administrator as a plain User (not the request-bound proxy)."""
    return current_user._get_current_object()


def find_or_404(model, row_id: int, what: str):
    row = db.session.get(model, row_id)
    if row is None:
        abort(404, description=_("There is no such %(what)s.", what=what))
    return row


@dataclass
class Outcome:
    saved: bool = False


@contextmanager
def saved_unless_taken(field, message: str):
    """Make the request's changes in the block; they are committed after it. When a unique
    index refuses them (a parallel request took the same name first), whether at a flush in
    the block or at the commit, roll everything back, say so next to `field`, and leave the
    outcome's `saved` False. On PostgreSQL the second insert of a name waits for the first
    transaction and fails at its own flush, well before the commit."""
    outcome = Outcome()
    try:
        yield outcome
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        if not refused_as_taken(error):
            raise  # not a name taken: a foreign key (deleted meanwhile) or a bug, not this form's
        field.errors = [*field.errors, message]
        return
    outcome.saved = True


def still_there(model, ids, to_delete: bool = False) -> set:
    """Which of these rows (by primary key) are still there, each held until the request
    ends. To refer to them (FOR KEY SHARE): a deletion waits for this request, then sees them
    in use. With `to_delete` (FOR UPDATE): a write that would refer to them waits, then finds
    them gone. SQLite runs one writer at a time: its write lock is taken now, before the
    check."""
    begin_sqlite_write(db.session.connection())
    ids = [row_id for row_id in ids if row_id is not None]
    if not ids:
        return set()
    # An edit changes the flows revision first (at its flush), then its row: taken here in
    # that order too, or an edit of the row and this hold would wait for each other.
    new_revision(db.session)
    (key,) = model.__table__.primary_key.columns
    shared = not to_delete
    statement = select(key).where(key.in_(ids)).with_for_update(read=shared, key_share=shared)
    return set(db.session.scalars(statement))


def hold_to_delete(row) -> None:
    """Hold a row about to be deleted (still_there, to_delete) before asking whether it is in
    use, read as committed by any write this request waited for. One deleted by a request it
    waited for (a double click on Delete) raises StaleDataError: "deleted in the meantime"."""
    model = type(row)
    (key,) = model.__table__.primary_key.columns
    row_id = getattr(row, key.key)
    if not still_there(model, [row_id], to_delete=True):
        raise StaleDataError(f"{model.__tablename__} {row_id} was deleted meanwhile")
    db.session.refresh(row)
