"""Revoking stored tokens so that a refresh under way cannot outlive the revocation. Kept
apart from tokens.py, which loads the JOSE libraries: the admin and the user's pages revoke
too."""

from sqlalchemy import select, update

from idp.core.extensions import db
from idp.models import OAuth2Token
from idp.models.types import utcnow


def revoke_tokens(*conditions) -> int:
    """Revokes the live tokens that meet `conditions`, and those a refresh under way issues
    from one of them.

    A refresh holds the row of the token it spent until it commits the next one. On
    PostgreSQL an UPDATE that waited for that row still could not see the next one (its
    snapshot is older), so the rows are locked first, again until no new one shows up, and
    then the UPDATE, a statement of its own, sees every one. A refresh that comes after the
    lock finds its token revoked. SQLite runs one writer at a time: nothing to lock."""
    live = (*conditions, OAuth2Token.revoked_at.is_(None))
    if db.session.get_bind().dialect.name != "sqlite":
        _lock_including_successors(live)
    return db.session.execute(update(OAuth2Token).where(*live).values(revoked_at=utcnow())).rowcount


def _lock_including_successors(live) -> None:
    locked: set[int] = set()
    while True:
        # Newest first, as every revoker locks, so no two wait for each other. A refresh holds
        # the newest row of its family and may revoke the older ones (its consent is over):
        # a revoker waits for it at that row, before it holds any of the older ones.
        statement = (
            select(OAuth2Token.id).where(*live).order_by(OAuth2Token.id.desc()).with_for_update()
        )
        found = set(db.session.scalars(statement))
        if found <= locked:
            return
        locked |= found
