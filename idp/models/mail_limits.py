from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class MailSendCount(db.Model):
    """Mails sent per recipient, client IP or trusted device in the current hour; changed
    only by atomic upserts (idp.protection.mail_limits), never read, changed and written back."""

    __tablename__ = "mail_send_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(255))
    sends: Mapped[int] = mapped_column(default=0)
    # The hour counted starts at the first send after the previous hour ended.
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("scope", "key", name="uq_mail_send_counts_scope_key"),)
