"""Invitations: links an administrator hands out (`/flow/<slug>/?itoken=…`) that let someone
into a flow, with an expiry, single or multiple use, an optional flow, and fixed prompt data.

Only the SHA-256 of a token is stored; the link is shown once, when it is made.
"""

import hashlib
import secrets
from collections.abc import Iterator
from datetime import timedelta

from flask import current_app
from sqlalchemy import Row, select, update

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.flows.context import PROMPT_KEY_PATTERN
from idp.identity.usernames import (
    is_one_line,
    is_valid_email,
    is_valid_username,
    new_username_problem,
)
from idp.models import Invitation, User
from idp.models.types import utcnow

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
MAX_TOKEN_LENGTH = 200

NOT_VALID = N_("This invitation link is not valid.")
WITHDRAWN = N_("This invitation was withdrawn.")
EXPIRED = N_("This invitation has expired.")
USED = N_("This invitation was already used.")
OTHER_FLOW = N_("This invitation is not for this page.")


class FixedDataError(ValueError):
    """A key=value pair that cannot be fixed data; the message names it and reads well
    after a prefix ("--data ...") or on its own."""


def read_fixed_data(pairs) -> dict:
    """Fixed prompt data from key=value pairs (the CLI's --data, the admin form's lines).
    A key is a prompt field's key or a dotted attribute (attributes.team); the value is
    everything after the first =."""
    data = {}
    for pair in pairs:
        key, has_value, value = pair.partition("=")
        if not has_value or not PROMPT_KEY_PATTERN.match(key):
            raise FixedDataError(
                f"{pair!r} must be key=value, with a key like email or attributes.team"
            )
        if key in data:
            raise FixedDataError(f"{key!r} is given twice")
        if key == "password":
            # Invitations are stored and shown in clear; a password is never set this way.
            raise FixedDataError("a password cannot be fixed data")
        # Fixed data reaches the user's row without the prompt stage's checks when no
        # prompt asks for the key: the same rules as those fields.
        if not is_one_line(value):
            raise FixedDataError(f"{key!r}: one line only, without control characters")
        if key == "username" and not is_valid_username(value):
            raise FixedDataError(f"{value!r} is not a valid username")
        if key == "username" and (problem := new_username_problem(value)):
            raise FixedDataError(f"{value!r} is not a valid username: {problem}")
        if key == "email" and not is_valid_email(value):
            raise FixedDataError(f"{value!r} is not a valid email address")
        data[key] = value
    return data


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    name: str = "",
    flow_slug: str | None = None,
    fixed_data: dict | None = None,
    expires_in: timedelta | None = None,
    single_use: bool = True,
    created_by: User | None = None,
) -> tuple[Invitation, str]:
    """A new invitation and its token (returned here only)."""
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_hash=token_hash(token),
        name=name,
        flow_slug=flow_slug or None,
        fixed_data=dict(fixed_data or {}),
        single_use=single_use,
        created_by_id=created_by.id if created_by is not None else None,
        expires_at=utcnow() + expires_in if expires_in is not None else None,
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def revoke_invitation(invitation_id: int) -> bool:
    """Revoke an invitation; False when there is no such invitation or it was revoked before."""
    result = db.session.execute(
        update(Invitation)
        .where(Invitation.id == invitation_id, Invitation.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount == 1


def find_invitation(token: str) -> Invitation | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(select(Invitation).where(Invitation.token_hash == token_hash(token)))


def problem_with(
    invitation: Invitation | None, flow_slug: str, plan_id: str | None = None
) -> str | None:
    """Why this invitation cannot be used in this flow now (by this plan), or None."""
    if invitation is None:
        return NOT_VALID
    if invitation.revoked_at is not None:
        return WITHDRAWN
    if invitation.expires_at is not None and invitation.expires_at <= utcnow():
        return EXPIRED
    used_by_another = invitation.used_at is not None and (
        plan_id is None or invitation.used_by_plan != plan_id
    )
    if invitation.single_use and used_by_another:
        return USED
    if invitation.flow_slug and invitation.flow_slug != flow_slug:
        return OTHER_FLOW
    return None


def use_invitation(invitation: Invitation, plan_id: str = "") -> bool:
    """Take a single-use invitation with one atomic UPDATE: of two parallel uses one wins,
    and the plan that won may use it again (its flow restarted). A multi-use invitation is
    only checked to be still valid."""
    conditions = [
        Invitation.id == invitation.id,
        Invitation.revoked_at.is_(None),
        Invitation.expires_at.is_(None) | (Invitation.expires_at > utcnow()),
    ]
    if not invitation.single_use:
        return db.session.scalar(select(Invitation.id).where(*conditions)) is not None
    unused_or_ours = Invitation.used_at.is_(None)
    if plan_id:
        unused_or_ours = unused_or_ours | (Invitation.used_by_plan == plan_id)
    result = db.session.execute(
        update(Invitation)
        .where(*conditions, unused_or_ours)
        .values(used_at=utcnow(), used_by_plan=plan_id or None)
    )
    return result.rowcount == 1


def invitation_link(flow_slug: str, token: str) -> str:
    base = current_app.config.get("BASE_URL") or DEFAULT_BASE_URL
    return f"{base}/flow/{flow_slug}/?itoken={token}"


def state_of(invitation: Invitation | Row) -> str:
    """One word for listings: active, used, revoked or expired (of an invitation, or of a row
    of all_invitations)."""
    if invitation.revoked_at is not None:
        return "revoked"
    if invitation.single_use and invitation.used_at is not None:
        return "used"
    if invitation.expires_at is not None and invitation.expires_at <= utcnow():
        return "expired"
    return "active"


def all_invitations() -> Iterator[Row]:
    """Every invitation, oldest first, with the columns a listing shows (and state_of reads),
    streamed: one statement read a thousand rows at a time, so a site with many invitations
    is listed without holding them all (and their fixed data) in memory."""
    return db.session.execute(
        select(
            Invitation.id,
            Invitation.name,
            Invitation.flow_slug,
            Invitation.single_use,
            Invitation.expires_at,
            Invitation.used_at,
            Invitation.revoked_at,
        ).order_by(Invitation.id),
        execution_options={"yield_per": 1000},
    )
