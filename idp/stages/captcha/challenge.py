"""The built-in challenge, kept in the database (a flow_tokens row per plan and stage).

The answer never travels to the browser: the page gets a drawing and the cookie nothing. A
challenge is taken by exactly one answer (an atomic UPDATE), right or wrong, so it cannot be
replayed; the next showing draws a new one.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from idp.core.extensions import db
from idp.core.network import client_ip
from idp.models import FlowToken
from idp.models.types import utcnow
from idp.stages.captcha.glyphs import ALPHABET

PURPOSE = "captcha"
LENGTH = 5
LIFETIME = timedelta(minutes=10)
# Challenges nobody answered are removed as new ones are made, so the table stays small.
KEPT_FOR = timedelta(hours=1)


def current_challenge(ctx) -> dict:
    """The challenge to show: the live one, else a fresh one. {"text", "seed"}."""
    key = _key(ctx)
    now = utcnow()
    row = db.session.scalar(select(FlowToken).where(FlowToken.token_hash == key))
    if row is None:
        return _create(ctx, key)
    if row.used_at is not None or row.expires_at <= now:
        row.plan, row.used_at = _new_puzzle(), None
        row.created_at, row.expires_at = now, now + LIFETIME
        db.session.flush()
    return row.plan


def take_answer(ctx) -> str | None:
    """Use up the live challenge and return its text; None when there was none to use
    (already answered, expired, or never shown)."""
    taken = db.session.execute(
        update(FlowToken)
        .where(
            FlowToken.token_hash == _key(ctx),
            FlowToken.used_at.is_(None),
            FlowToken.expires_at > utcnow(),
        )
        .values(used_at=utcnow())
        .returning(FlowToken.plan)
    ).scalar()
    return taken["text"] if taken else None


def is_right(expected: str, typed: str) -> bool:
    cleaned = "".join(typed.split()).upper()
    return hmac.compare_digest(cleaned.encode(), expected.encode())


def _create(ctx, key: str) -> dict:
    now = utcnow()
    db.session.execute(
        delete(FlowToken).where(FlowToken.purpose == PURPOSE, FlowToken.created_at < now - KEPT_FOR)
    )
    row = FlowToken(
        token_hash=key,
        purpose=PURPOSE,
        flow_slug=ctx.flow.slug,
        plan=_new_puzzle(),
        requested_ip=client_ip()[:45],
        expires_at=now + LIFETIME,
    )
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:  # a parallel request of the same plan made it first
        return db.session.scalar(select(FlowToken.plan).where(FlowToken.token_hash == key))
    return row.plan


def _new_puzzle() -> dict:
    text = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return {"text": text, "seed": secrets.randbits(32)}


def _key(ctx) -> str:
    """One challenge per plan and stage; the plan id is in the cookie, the answer is not."""
    raw = f"{PURPOSE}:{ctx.plan_id}:{ctx.binding.id}"
    return hashlib.sha256(raw.encode()).hexdigest()
