import secrets
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


def new_agreement() -> str:
    return secrets.token_hex(16)


class Consent(db.Model):
    """A user's agreement to a consent stage's terms, or to what an application receives."""

    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # What was agreed to: the consent stage's name, or `application:<id>`.
    subject: Mapped[str] = mapped_column(String(200))
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    # The scopes the application was allowed; asking for more asks again.
    scopes: Mapped[list] = mapped_column(JSON, default=list)
    # A digest of the terms shown, so changed terms ask again.
    terms_digest: Mapped[str] = mapped_column(String(64), default="")
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Names this agreement: kept while it stands (agreeing to more, asking again), new when
    # one is given after the last expired or was withdrawn. Token families issued under an
    # application's consent carry it, so a later agreement does not revive them.
    agreement: Mapped[str | None] = mapped_column(String(32), default=new_agreement)

    __table_args__ = (UniqueConstraint("user_id", "subject", name="uq_consents_user_subject"),)
