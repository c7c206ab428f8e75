from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class SiteSetting(db.Model):
    """One setting an administrator changes while Gatehouse runs (idp.identity.site_settings knows
    the keys and validates the values); a key without a row has its default."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
