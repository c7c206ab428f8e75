"""Deleting what no longer counts: authorization codes and requests that were used or expired,
tokens that were revoked or have expired, and the sign-ins of sessions that ended.

Each new code and each new token clears the dead ones of the same user at the same
application (a few rows, by index), so an active user leaves nothing behind; `idp maintenance
purge` clears everything else. Helpers only run the deletes; the caller commits.
"""

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select

from idp.core.extensions import db
from idp.identity.deletion import delete_where
from idp.models import (
    AuthorizationCode,
    AuthorizationRequest,
    OAuth2Token,
    SessionApplication,
    UserSession,
)
from idp.models.types import utcnow

# A used code is kept this long after it expired: presented again meanwhile, it still revokes
# the tokens it gave (RFC 9700 4.1.2). A code nobody exchanged gave nothing and goes at once.
USED_CODES_KEPT = timedelta(days=1)
# A token read as live just before it died may still be making its successor (a refresh grant
# in flight, or a server whose clock runs a little behind), which names the same session: that
# session is kept until its tokens have been dead this long.
TOKENS_DEAD_FOR = timedelta(hours=1)


def _dead_codes(now):
    return or_(
        and_(AuthorizationCode.used_at.is_(None), AuthorizationCode.expires_at <= now),
        AuthorizationCode.expires_at <= now - USED_CODES_KEPT,
    )


def _dead_requests(now):
    return or_(AuthorizationRequest.used_at.is_not(None), AuthorizationRequest.expires_at <= now)


def _dead_tokens(now):
    """Revoked, or past the end of both its access and its refresh token. A refresh token
    that was used but has not expired stays: presented again, it reveals a theft."""
    return or_(
        OAuth2Token.revoked_at.is_not(None),
        and_(
            OAuth2Token.access_expires_at <= now,
            or_(OAuth2Token.refresh_expires_at.is_(None), OAuth2Token.refresh_expires_at <= now),
        ),
    )


def _deleted(statement) -> int:
    return db.session.execute(statement.execution_options(synchronize_session=False)).rowcount


def _deleted_codes(condition) -> int:
    """The tokens a code gave forget it (ON DELETE SET NULL, which SQLite does not enforce
    here): SQLite gives its id to the next code made, and replaying that one would revoke
    them too."""
    return delete_where(AuthorizationCode.__table__, condition)


def purge_codes_of(user_id: int, application_id: int) -> int:
    """When a new code is made: this user's dead codes and requests at this application."""
    now = utcnow()
    codes = _deleted_codes(
        and_(
            AuthorizationCode.user_id == user_id,
            AuthorizationCode.application_id == application_id,
            _dead_codes(now),
        )
    )
    requests = _deleted(
        delete(AuthorizationRequest).where(
            AuthorizationRequest.user_id == user_id,
            AuthorizationRequest.application_id == application_id,
            _dead_requests(now),
        )
    )
    return codes + requests


def drop_unexchanged_codes_of(user_id: int, application_id: int) -> int:
    """When the user withdraws their consent to the application: the codes issued under it
    that no one exchanged yet, so none can be exchanged after. Used ones stay, to catch a
    replay."""
    return _deleted_codes(
        and_(
            AuthorizationCode.user_id == user_id,
            AuthorizationCode.application_id == application_id,
            AuthorizationCode.used_at.is_(None),
        )
    )


def purge_tokens_of(user_id: int, application_id: int) -> int:
    """When a new token is made: this user's dead tokens at this application."""
    return _deleted(
        delete(OAuth2Token).where(
            OAuth2Token.user_id == user_id,
            OAuth2Token.application_id == application_id,
            _dead_tokens(utcnow()),
        )
    )


def needed_by_a_token() -> ColumnElement[bool]:
    """Sessions (a condition on UserSession) that a token still needs. A token stays valid
    after its session ends by time, a refresh token for its whole life (only a revoked session
    ends its tokens: tokens.TokenState.is_live), and deleting the session would take the token
    with it (ON DELETE CASCADE). Asked before this module deletes the dead tokens, so that one
    that died within TOKENS_DEAD_FOR still counts."""
    return exists().where(
        OAuth2Token.session_id == UserSession.id,
        ~_dead_tokens(utcnow() - TOKENS_DEAD_FOR),
    )


def purge_everything() -> dict[str, int]:
    """Every dead code, request, token and sign-in of an ended session: counts by kind."""
    now = utcnow()
    ended_sessions = select(UserSession.id).where(
        or_(UserSession.revoked_at.is_not(None), UserSession.expires_at <= now)
    )
    return {
        "authorization codes": _deleted_codes(_dead_codes(now)),
        "authorization requests": _deleted(delete(AuthorizationRequest).where(_dead_requests(now))),
        "tokens": _deleted(delete(OAuth2Token).where(_dead_tokens(now))),
        "session sign-ins": _deleted(
            delete(SessionApplication).where(SessionApplication.session_id.in_(ended_sessions))
        ),
    }
