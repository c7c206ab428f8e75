"""Unconfirmed sign-ups: accounts made by enrollment whose address was never confirmed.

Such an account holds its username and email only for IDP_UNCONFIRMED_SIGNUP_LIFETIME.
After that a new sign-up with the same name or address replaces it, and
`idp maintenance purge` deletes it. An account an admin disabled is no sign-up: it carries
no plan mark (User.signup_plan_hash) and is never touched here.
"""

import hashlib
from datetime import timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, delete, func, or_, select

from idp.core.extensions import db
from idp.flows import once
from idp.identity.deletion import delete_users, named_by_a_binding
from idp.models import FlowToken, User
from idp.models.types import utcnow
from idp.models.users import username_key

# Expired flow tokens are kept this long: the hourly mail limit still counts them.
EXPIRED_TOKENS_KEPT_FOR = timedelta(hours=1)


def plan_mark(plan_id: str) -> str:
    """What an unconfirmed account keeps of the plan that made it."""
    return hashlib.sha256(f"signup:{plan_id}".encode()).hexdigest()


def is_signup_of_plan(user: User, plan_id: str) -> bool:
    return user.is_unconfirmed_signup and user.signup_plan_hash == plan_mark(plan_id)


def signup_lifetime() -> timedelta:
    return timedelta(seconds=current_app.config["UNCONFIRMED_SIGNUP_LIFETIME"])


def lapsed(lifetime: timedelta | None = None) -> ColumnElement[bool]:
    """Unconfirmed sign-ups older than the lifetime (the setting's, unless given). One that an
    admin has named in a binding is kept, and keeps its name: deleting it would delete the
    binding (see idp.identity.deletion)."""
    return and_(
        User.is_active.is_(False),
        User.signup_plan_hash.is_not(None),
        User.created_at < utcnow() - (lifetime or signup_lifetime()),
        ~named_by_a_binding(),
    )


def _holding(username: str | None, email: str | None) -> ColumnElement[bool]:
    # The key finds a name that reads the same (full-width "admin" beside "admin"); lower() the one
    # the unique index guards, whatever key a name of an older rule was given.
    names = (
        [
            func.lower(User.username) == username.strip().lower(),
            User.username_key == username_key(username.strip()),
        ]
        if username
        else []
    )
    addresses = [func.lower(User.email) == email.strip().lower()] if email else []
    return or_(*names, *addresses) if names or addresses else User.id.is_(None)


def username_holder(username: str) -> User | None:
    """The account that holds the name, unless it is a lapsed sign-up."""
    return db.session.scalar(select(User).where(_holding(username, None), ~lapsed()).limit(1))


def username_is_free(username: str) -> bool:
    """Nobody holds the name: no account, or only a lapsed sign-up."""
    return username_holder(username) is None


def email_holder(email: str) -> User | None:
    """The account that holds the address, unless it is a lapsed sign-up."""
    return db.session.scalar(select(User).where(_holding(None, email), ~lapsed()).limit(1))


def release(username: str | None, email: str | None, keep: User | None = None) -> int:
    """Delete lapsed sign-ups holding this name or address, in the caller's transaction;
    never `keep` (the account being edited)."""
    if not (username or email):
        return 0
    condition = and_(_holding(username, email), lapsed())
    if keep is not None and keep.id is not None:
        condition = and_(condition, User.id != keep.id)
    return delete_users(condition)


def purge(lifetime: timedelta | None = None) -> tuple[int, int]:
    """Delete every lapsed sign-up and every flow token that expired a while ago.
    Returns (sign-ups, tokens) deleted; the caller commits. Old plan claims go too."""
    once.purge()
    signups = delete_users(lapsed(lifetime))
    now = utcnow()
    tokens = db.session.execute(
        delete(FlowToken).where(
            FlowToken.expires_at < now, FlowToken.created_at < now - EXPIRED_TOKENS_KEPT_FOR
        )
    ).rowcount
    return signups, tokens
