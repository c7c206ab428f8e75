from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.extensions import db
from idp.models.types import UTCDateTime, utcnow


class Consent(db.Model):
    """A user's agreement to a consent stage's terms (later: an application's permissions)."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # What was agreed to: the consent stage's name, or an application later.
    subject: Mapped[str] = mapped_column(String(200))
    # A digest of the terms shown, so changed terms ask again.
    terms_digest: Mapped[str] = mapped_column(String(64), default="")
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("user_id", "subject", name="uq_consents_user_subject"),)
