from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class Event(db.Model):
    """The audit log: sign-ins, failures, sign-outs, denials, policy errors."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    username: Mapped[str] = mapped_column(String(150), default="")
    ip: Mapped[str] = mapped_column(String(45), default="")
    flow_slug: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)

    # The event log's User filter (idp.admin.dashboard.events) compares lower(username).
    __table_args__ = (Index("ix_events_username_lower", func.lower(username)),)
