"""OpenID Connect state: signing keys, authorization codes, tokens, the applications each
session signed in to (for back-channel logout), and admin-defined scopes. Codes and tokens are
kept as SHA-256 hashes only; private keys are sealed (idp.core.sealing)."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from idp.core.extensions import db
from idp.models.types import UTCDateTime, utcnow


class SigningKey(db.Model):
    """A key that signs ID tokens and access tokens. Published in the JWKS from creation (the
    next key) until `published_until` after it retired; it signs from `signs_from` until
    `retired_at`."""

    __tablename__ = "oauth2_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(64), unique=True)
    algorithm: Mapped[str] = mapped_column(String(8), index=True)
    sealed_private_key: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signs_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuthorizationCode(db.Model):
    __tablename__ = "oauth2_authorization_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True
    )
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(1000), default="")
    nonce: Mapped[str | None] = mapped_column(String(500))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    # The agreement (Consent.agreement) of the standing consent the code was issued under;
    # None when there was none. Its tokens carry it, and it must still stand at exchange.
    consent_agreement: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OAuth2Token(db.Model):
    """An access token and, with offline_access, its refresh token. Refreshing makes a new
    row in the same `family`; presenting a used refresh token again revokes the family."""

    __tablename__ = "oauth2_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    # None for a client_credentials token (the client acts for itself).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True
    )
    code_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth2_authorization_codes.id", ondelete="SET NULL"), index=True
    )
    family: Mapped[str] = mapped_column(String(64), index=True)
    grant_type: Mapped[str] = mapped_column(String(40))
    scope: Mapped[str] = mapped_column(String(1000), default="")
    access_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    refresh_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The agreement (Consent.agreement) of the consent the family was issued under; None
    # when there was none to give (no consent stage, or it passed the user over).
    consent_agreement: Mapped[str | None] = mapped_column(String(32))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    access_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refresh_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the refresh token was exchanged for the next one; a second use is a theft.
    refresh_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@event.listens_for(OAuth2Token.__table__, "before_create")
def _ids_never_reused_on_sqlite(table, connection, **_):
    """SQLite would otherwise give a token deleted as dead its id back for the next token
    inserted, and a refresh would save a row under the id of the one it loaded, or a stale
    admin page revoke the wrong token. Said here rather than in __table_args__, which would
    load SQLite's dialect on every site."""
    if connection.dialect.name == "sqlite":
        table.dialect_options["sqlite"]["autoincrement"] = True


class SessionApplication(db.Model):
    """An application a session signed in to: whom back-channel logout tells when the
    session ends. Kept apart from codes and tokens, which are purged long before a session
    may end."""

    __tablename__ = "oauth2_session_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("user_sessions.id", ondelete="CASCADE"), index=True
    )
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True
    )
    # The issuer the application knows Gatehouse by (its host), for the logout token.
    issuer: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("session_id", "application_id", name="uq_oauth2_session_applications"),
    )


class ScopeMapping(db.Model):
    """A scope an administrator defines: asking for `name` gives the claims its sandboxed
    expression returns (a mapping of claim names to JSON values). oauth2 providers name the
    scope mappings they offer in their options."""

    __tablename__ = "oauth2_scope_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The scope itself, as a client asks for it (`nextcloud`).
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # What the consent page says the application receives with it.
    description: Mapped[str] = mapped_column(String(500), default="")
    expression: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
