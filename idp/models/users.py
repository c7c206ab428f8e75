import unicodedata
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow

# How long a username's key may grow: NFKC and case folding can expand a character into a
# few (the ligature "ﬃ" into "ffi"), and a name of an older rule may hold such characters.
USERNAME_KEY_MAX_LENGTH = 600


def username_key(username: str) -> str:
    """What two usernames that read the same share: NFKC, case folded, NFKC again (as
    Unicode's NFKC_Casefold). "Admin", "ADMIN" and a full-width "admin" are one name to
    whoever reads them; a new name whose key an account holds is taken
    (idp.identity.signups)."""
    folded = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", username).casefold())
    return folded[:USERNAME_KEY_MAX_LENGTH]


group_members = Table(
    "group_members",
    db.metadata,
    Column("group_id", ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    # The primary key serves a group's members; this index a user's groups (every sign-in).
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(150))
    # username_key(username), kept by _keyed below. Unique: of two sign-ups at once with names
    # that read alike, the database lets one in. Accounts of an older rule that shared a key
    # were set apart by migration e2a9c4f7b1d3 (the oldest kept the key, the others hold it
    # with a suffix no real key has); they sign in by username, not by key.
    username_key: Mapped[str | None] = mapped_column(
        String(USERNAME_KEY_MAX_LENGTH), index=True, unique=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_active: Mapped[bool] = mapped_column(default=True)
    is_superuser: Mapped[bool] = mapped_column(default=False)
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set while the account is an unconfirmed sign-up: the SHA-256 of the enrollment plan that
    signup_plan_hash: Mapped[str | None] = mapped_column(String(64))
    # The address its owner proved by following a mailed link, or an administrator set. The
    # address counts as verified while it is still `email` (a changed address is not).
    verified_email: Mapped[str | None] = mapped_column(String(254))
    # The language the user chose on /me ("de"); None: their browser's (Accept-Language).
    language: Mapped[str | None] = mapped_column(String(8))

    groups: Mapped[list["Group"]] = relationship(
        secondary=group_members, back_populates="members", lazy="raise"
    )

    __table_args__ = (
        Index("uq_users_username_lower", func.lower(username), unique=True),
        Index("uq_users_email_lower", func.lower(email), unique=True),
    )

    @validates("username")
    def _keyed(self, key, username):
        new_key = username_key(username) if username is not None else None
        # A name that still reads the same ("Bob" for "bob") keeps its key: one set apart by
        # the migration stays apart, and the account is edited as before.
        old = self.username
        if old is not None and self.username_key is not None and new_key == username_key(old):
            return username
        self.username_key = new_key
        return username

    @validates("is_active")
    def _confirmed_once_active(self, key, is_active):
        # However it is activated (the mailed link, an admin), it is no sign-up any more.
        if is_active:
            self.signup_plan_hash = None
        return is_active

    @property
    def is_unconfirmed_signup(self) -> bool:
        return not self.is_active and self.signup_plan_hash is not None

    @property
    def is_email_verified(self) -> bool:
        return bool(self.email) and (self.verified_email or "").lower() == self.email.lower()

    def mark_email_verified(self) -> None:
        self.verified_email = self.email or None

    @property
    def has_password(self) -> bool:
        return self.password_hash is not None

    @property
    def display_name(self) -> str:
        return self.name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Group(db.Model):
    __tablename__ = "groups"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(
        secondary=group_members, back_populates="groups", lazy="raise"
    )

    def __repr__(self) -> str:
        return f"<Group {self.name}>"


@event.listens_for(User.__table__, "before_create")
def _ids_never_reused_on_sqlite(table, connection, **_):
    """SQLite would otherwise give a deleted user's id to the next account, and a plan cookie
    that proved the deleted user (pending_user_id) would carry on as that account. Said
    here rather than in __table_args__, which would load SQLite's dialect on every site."""
    if connection.dialect.name == "sqlite":
        table.dialect_options["sqlite"]["autoincrement"] = True
