from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class PlanEffect(db.Model):
    """Something a plan did that it may do only once (a user written, codes made, a mail
    sent). The row is inserted in the transaction that does it: a replayed cookie or a
    parallel request of the same plan meets the unique constraint and does nothing."""

    __tablename__ = "plan_effects"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(64))
    effect: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("plan_id", "effect", name="uq_plan_effects_plan_effect"),)
