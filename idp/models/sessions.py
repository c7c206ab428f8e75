from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow
from idp.models.users import User


class UserSession(db.Model):
    """A signed-in browser. The cookie holds a random key; only its SHA-256 is stored here."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The plan that signed this session in: a replayed plan cannot sign in twice.
    plan_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed for the dashboard's count of live sessions: with the shipped flows' lifetime of
    # a day and ended sessions kept 30 days, the unexpired are a thirtieth of the rows. Not
    # last_seen_at, which each use moves: an index on it would end PostgreSQL's in-place (HOT)
    # updates of that column, about half of them, for an admin's counter.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(500), default="")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the user last proved who they are in this session (signing in with a password,
    # or asked again): adding an authenticator needs it to be recent.
    reauthenticated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="raise")

    def ends_at(self, idle_timeout: timedelta | None) -> datetime:
        """When the session ends unless it is used again: the end of its lifetime, or
        `idle_timeout` after it was last seen, whichever comes first."""
        if idle_timeout is None:
            return self.expires_at
        return min(self.expires_at, self.last_seen_at + idle_timeout)
