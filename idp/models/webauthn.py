from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class WebAuthnDevice(db.Model):
    """A passkey or security key. Only its public key is stored; the sign counter and the
    backup flags are kept from its last use (idp.credentials.passkeys checks them)."""

    __tablename__ = "webauthn_devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="Passkey")
    # base64url of the credential id the authenticator chose (at most 1023 bytes by the spec).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    # The COSE public key, as the authenticator gave it.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    # The user handle the credential was made with (base64url), checked at passkey sign-in.
    user_handle: Mapped[str] = mapped_column(String(100))
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    aaguid: Mapped[str] = mapped_column(String(36), default="")
    # Comma-separated: usb, nfc, ble, internal, hybrid...
    transports: Mapped[str] = mapped_column(String(200), default="")
    backup_eligible: Mapped[bool] = mapped_column(Boolean, default=False)
    backup_state: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebAuthnChallenge(db.Model):
    """A challenge waiting for the browser's answer: bound to one plan's stage, short-lived,
    and deleted by the request that uses it (a replayed answer finds nothing)."""

    __tablename__ = "webauthn_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[str] = mapped_column(String(64))
    binding_id: Mapped[int] = mapped_column(Integer)
    # register, authenticate (a second factor) or passwordless (who is signing in is unknown).
    purpose: Mapped[str] = mapped_column(String(20))
    challenge: Mapped[str] = mapped_column(String(200))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (
        UniqueConstraint("plan_id", "binding_id", name="uq_webauthn_challenges_plan_binding"),
    )
