"""Tokens: made (access tokens are JWTs signed with joserfc), stored as hashes, looked up,
checked for life, revoked."""

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from joserfc import jwt
from joserfc.errors import JoseError
from sqlalchemy import func, or_, select, update

from idp.core.extensions import db
from idp.models import OAuth2Token, User, UserSession
from idp.models.types import utcnow
from idp.providers.oauth2 import keys
from idp.providers.oauth2.revoking import revoke_tokens


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_family() -> str:
    return secrets.token_hex(16)


def make_access_token(client, user, scope: str, issuer: str, lifetime: int) -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "sub": str(user.id) if user is not None else client.get_client_id(),
        "aud": client.get_client_id(),
        "client_id": client.get_client_id(),
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
        "scope": scope or "",
    }
    return signed(claims, client.options.signing_algorithm, "at+jwt")


def signed(claims: dict, algorithm: str, token_type: str) -> str:
    """A JWT of these claims, signed with the current key for the algorithm."""
    key = keys.signing_key(algorithm)
    header = {"alg": algorithm, "kid": key.kid, "typ": token_type}
    return jwt.encode(header, claims, key, [algorithm])


def id_token_hint_claims(client, hint: str) -> dict | None:
    """The claims of an ID token Gatehouse signed for this client, expired or not (a hint is
    usually old); None when it is not one (bad signature, another client or issuer, a key no
    longer published)."""
    try:
        key = keys.verification_key_from_header(hint)
        claims = jwt.decode(hint, key, algorithms=list(keys.ALGORITHMS)).claims
    except (JoseError, ValueError, TypeError):
        return None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if claims.get("iss") != client.issuer or client.get_client_id() not in audiences:
        return None
    return claims


def make_refresh_token() -> str:
    return secrets.token_urlsafe(48)


@dataclass
class TokenState:
    """A stored token with what decides whether it still counts."""

    row: OAuth2Token
    user: User | None
    session: UserSession | None

    def is_live(self, now: datetime | None = None, refresh: bool = False) -> bool:
        now = now or utcnow()
        row = self.row
        if row.revoked_at is not None:
            return False
        expiry = row.refresh_expires_at if refresh else row.access_expires_at
        if expiry is None or expiry <= now:
            return False
        if refresh and row.refresh_used_at is not None:
            return False  # rotated: its successor is the live one
        if row.user_id is None:
            return True  # client_credentials: the client acts for itself
        user = self.user
        if user is None or not user.is_active:
            return False
        if user.password_changed_at is not None and user.password_changed_at > row.issued_at:
            return False
        # Tokens belong to the sign-in that made them: ending it ends them.
        return self.session is None or self.session.revoked_at is None


def find(value: str, kind: str | None = None) -> TokenState | None:
    """The token whose access (or refresh) token is `value`, with its user and session: one
    query."""
    if not value or len(value) > 4096:
        return None
    hashed = digest(value)
    if kind == "access_token":
        condition = OAuth2Token.access_token_hash == hashed
    elif kind == "refresh_token":
        condition = OAuth2Token.refresh_token_hash == hashed
    else:
        condition = or_(
            OAuth2Token.access_token_hash == hashed, OAuth2Token.refresh_token_hash == hashed
        )
    found = db.session.execute(
        select(OAuth2Token, User, UserSession)
        .outerjoin(User, User.id == OAuth2Token.user_id)
        .outerjoin(UserSession, UserSession.id == OAuth2Token.session_id)
        .where(condition)
    ).first()
    if found is None:
        return None
    return TokenState(*found)


def is_refresh_value(state: TokenState, value: str) -> bool:
    return state.row.refresh_token_hash == digest(value)


def revoke_family(family: str) -> int:
    return revoke_tokens(OAuth2Token.family == family)


def revoke_from_code(code_id: int) -> int:
    families = select(OAuth2Token.family).where(OAuth2Token.code_id == code_id)
    return revoke_tokens(OAuth2Token.family.in_(families))


def hold_family(family: str) -> None:
    """On PostgreSQL, parallel refreshes of one family run one after the other from here (a
    lock for the transaction): each spend, and a loser's revocation of the family, then
    meets rows no other refresh of it is holding. Six at once with one token deadlocked
    among the losers' spends and revocations (tests/http/applications/test_oidc_parallel.py).
    SQLite runs one writer at a time."""
    if db.session.get_bind().dialect.name == "sqlite":
        return
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(family, 0))))


def mark_refresh_used(token_id: int) -> bool:
    """Atomically: True for the one request that exchanged this refresh token, if nothing
    revoked it first (a revocation that committed while this request was under way)."""
    result = db.session.execute(
        update(OAuth2Token)
        .where(
            OAuth2Token.id == token_id,
            OAuth2Token.refresh_used_at.is_(None),
            OAuth2Token.revoked_at.is_(None),
        )
        .values(refresh_used_at=utcnow())
    )
    return result.rowcount == 1


def was_refresh_used(token_id: int) -> bool:
    """Read again, as committed now (not as this request first read it)."""
    used_at = db.session.scalar(
        select(OAuth2Token.refresh_used_at).where(OAuth2Token.id == token_id)
    )
    return used_at is not None


def expiry(seconds: int) -> datetime:
    return utcnow() + timedelta(seconds=seconds)
