"""Finding and changing users; shared by stages, the CLI and the admin."""

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Group, User
from idp.models.types import utcnow
from idp.passwords import hash_password

USER_FIELDS = ("username", "email")


def find_user(identifier: str, fields=USER_FIELDS) -> User | None:
    """The user whose username or email (as allowed by `fields`) matches, ignoring case."""
    identifier = identifier.strip().lower()
    if not identifier:
        return None
    for field in fields:
        column = getattr(User, field)
        user = db.session.scalar(select(User).where(func.lower(column) == identifier))
        if user is not None:
            return user
    return None


def username_taken(username: str) -> bool:
    return find_user(username, ("username",)) is not None


def email_taken(email: str) -> bool:
    return find_user(email, ("email",)) is not None


def set_password(user: User, password: str | None) -> None:
    user.password_hash = hash_password(password) if password is not None else None
    user.password_changed_at = utcnow()


def find_group(name: str) -> Group | None:
    return db.session.scalar(select(Group).where(Group.name == name))


def user_group_names(user: User | None) -> list[str]:
    if user is None:
        return []
    return list(
        db.session.scalars(
            select(Group.name).join(Group.members).where(User.id == user.id).order_by(Group.name)
        )
    )
