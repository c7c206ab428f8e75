from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class TotpDevice(db.Model):
    """A TOTP authenticator. The secret is sealed at rest (idp.core.sealing), never in a cookie."""

    __tablename__ = "totp_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="Authenticator app")
    sealed_secret: Mapped[str] = mapped_column(Text)
    # The last time step whose code was accepted: a code is good once (atomic UPDATE).
    last_used_step: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaticCode(db.Model):
    """A recovery code: shown once, stored hashed, good once."""

    __tablename__ = "static_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
