"""Small pieces every admin page uses."""

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from idp.core.extensions import db

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


def commit_unless_taken(field, message: str) -> bool:
    """Commit the request's changes. When a unique index refuses them (a parallel request
    took the same name first), roll everything back and say so next to `field`."""
    return _unless_taken(db.session.commit, field, message)


def flush_unless_taken(field, message: str) -> bool:
    """Flush a new row (its id is needed before the commit), as commit_unless_taken commits:
    the index refuses a name at the INSERT, so a parallel request that took it first (the
    same form sent twice by a double click) is met here, not at the commit."""
    return _unless_taken(db.session.flush, field, message)


def _unless_taken(write, field, message: str) -> bool:
    try:
        write()
    except IntegrityError:
        db.session.rollback()
        field.errors = [*field.errors, message]
        return False
    return True
