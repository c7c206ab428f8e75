"""The links the email stage mails: one-time tokens, kept only as their SHA-256, each with the
plan it resumes. The stage issues them; its route follows them."""

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import FlowToken
from idp.models.types import utcnow
from idp.network import client_ip

STAGE_TYPE = "email"
PURPOSE = "email"
# token_urlsafe(32) gives 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 100


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_link(
    *, flow_slug: str, user_id: int | None, recipient_key: str, plan: dict, lifetime: timedelta
) -> str:
    """A new token, stored as its hash; the clear token is returned for the mail only."""
    token = secrets.token_urlsafe(32)
    db.session.add(
        FlowToken(
            token_hash=token_hash(token),
            purpose=PURPOSE,
            flow_slug=flow_slug,
            user_id=user_id,
            email=recipient_key,
            plan=plan,
            requested_ip=client_ip(),
            expires_at=utcnow() + lifetime,
        )
    )
    db.session.flush()
    return token


def find_link(token: str) -> FlowToken | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(FlowToken).where(
            FlowToken.token_hash == token_hash(token), FlowToken.purpose == PURPOSE
        )
    )


def is_usable(link: FlowToken) -> bool:
    return link.used_at is None and link.expires_at > utcnow()


def use_link(link: FlowToken) -> bool:
    """Mark the link used. False when another request used it first: only one can win.

    The other links mailed for the same account and flow stop working too, so a resent
    link cannot resume the same plan a second time."""
    now = utcnow()
    won = db.session.execute(
        update(FlowToken)
        .where(FlowToken.id == link.id, FlowToken.used_at.is_(None), FlowToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        return False
    same_recipient = (
        FlowToken.user_id == link.user_id
        if link.user_id is not None
        else FlowToken.email == link.email
    )
    db.session.execute(
        update(FlowToken)
        .where(
            FlowToken.purpose == PURPOSE,
            FlowToken.flow_slug == link.flow_slug,
            same_recipient,
            FlowToken.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return True
