"""Finding and changing users; shared by stages, the CLI and the admin."""

import functools

from flask_babel import gettext as _
from sqlalchemy import bindparam, delete, func, or_, select, update

from idp.core.database import hold_until_commit
from idp.core.extensions import db
from idp.core.network import client_ip
from idp.credentials.passwords import check_password, hash_password, needs_rehash
from idp.identity import devices
from idp.models import Group, PasswordHistory, User
from idp.models.types import utcnow
from idp.protection import attempts

USER_FIELDS = ("username", "email")
ADMINISTRATORS_LOCK_KEY = 7_154_620_013  # names the advisory lock of hold_administrators


def hold_administrators() -> None:
    """Before counting the other administrators to let one go (demoted, disabled, deleted):
    until this transaction ends, every other such count waits, then sees this one's change,
    so two administrators leaving at once never both pass."""
    hold_until_commit(db.session, ADMINISTRATORS_LOCK_KEY)


def find_user(identifier: str, fields=USER_FIELDS) -> User | None:
    """The user whose username or email (as allowed by `fields`) matches, ignoring case."""
    identifier = identifier.strip().lower()
    if not identifier:
        return None
    # One query whether or not the name exists (a known name costs no less than an unknown
    # one); the first field in `fields` wins when two users match on different fields.
    rows = db.session.execute(_find_statement(tuple(fields)), {"identifier": identifier}).all()
    for index in range(len(fields)):
        for user, *flags in rows:
            if flags[index]:
                return user
    return None


@functools.cache
def _find_statement(fields: tuple[str, ...]):
    """Built once per set of fields: every sign-in asks, and building it cost more than
    running it."""
    identifier = bindparam("identifier")
    matched = [func.lower(getattr(User, field)) == identifier for field in fields]
    return select(User, *matched).where(or_(*matched))


# How many earlier password hashes are kept for the unique_password policy.
PASSWORD_HISTORY_LENGTH = 24


def set_password(user: User, password: str | None) -> None:
    """Set (or, with None, remove) the password; the previous hash joins the history."""
    if user.password_hash is not None and user.id is not None:
        db.session.add(PasswordHistory(user_id=user.id, password_hash=user.password_hash))
        _trim_password_history(user)
    user.password_hash = hash_password(password) if password is not None else None
    user.password_changed_at = utcnow()


def upgrade_password_hash(user: User, password: str) -> None:
    """After the right password: replace a hash of an older scheme
    (idp.credentials.passwords) with a current one. Not a password change: the history and
    password_changed_at stay. Only the hash that was checked is replaced, so a password changed
    meanwhile is never undone."""
    checked = user.password_hash
    if not needs_rehash(checked):
        return
    db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == checked)
        .values(password_hash=hash_password(password))
        .execution_options(synchronize_session=False)
    )
    db.session.expire(user, ["password_hash"])


def _trim_password_history(user: User) -> None:
    kept = (
        select(PasswordHistory.id)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(PASSWORD_HISTORY_LENGTH)
        .scalar_subquery()
    )
    db.session.flush()
    db.session.execute(
        delete(PasswordHistory).where(
            PasswordHistory.user_id == user.id, PasswordHistory.id.not_in(kept)
        )
    )


def password_history(user: User, count: int) -> list[str]:
    """The hashes of the user's current and `count - 1` earlier passwords, newest first."""
    earlier = db.session.scalars(
        select(PasswordHistory.password_hash)
        .where(PasswordHistory.user_id == user.id)
        .order_by(PasswordHistory.id.desc())
        .limit(max(count - 1, 0))
    )
    current = [user.password_hash] if user.password_hash else []
    return current + list(earlier)


def find_group(name: str) -> Group | None:
    return db.session.scalar(select(Group).where(Group.name == name))


def groups_of(user: User) -> list[Group]:
    return list(db.session.scalars(_groups_statement(), {"member": user.id}))


@functools.cache
def _groups_statement():
    return (
        select(Group).join(Group.members).where(User.id == bindparam("member")).order_by(Group.name)
    )


def user_group_names(user: User | None) -> list[str]:
    return [group.name for group in groups_of(user)] if user is not None else []


def confirm_password(user: User, password: str) -> str | None:
    """Check a signed-in user's password before a sensitive change, throttled like a sign-in.
    None when it is right, else the message to show."""
    account = attempts.account_key(user.username, devices.trusted_device_of(user))
    wait = attempts.take_attempt(account, client_ip())
    if wait:
        return _("Too many failed attempts. Try again in %(seconds)d s.", seconds=wait)
    if not check_password(password, user.password_hash):
        return _("That password is not right.")
    upgrade_password_hash(user, password)  # first: see check_sign_in_password
    attempts.attempt_succeeded(account, client_ip())
    return None
