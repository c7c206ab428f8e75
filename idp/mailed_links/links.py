"""Mailed links into a flow: one-time tokens, kept only as their SHA-256, each with the plan it
resumes, and the mail that carries one. The email stage issues them and its route follows
them; an administrator's recovery link (idp.mailed_links.recovery_links) is issued the same way."""

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, render_template, request, url_for
from sqlalchemy import select, update

from idp.core.extensions import db
from idp.core.network import client_ip
from idp.models import FlowToken
from idp.models.types import utcnow

# The stage type that sends these links and whose route (/flow/email/<token>) opens them.
STAGE_TYPE = "email"
LINK_ENDPOINT = "stage_email.open_link"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
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


def mail_base_url() -> str:
    """Where mailed links point: IDP_BASE_URL. Without it, the request's own address only when
    that is this machine (a laptop); '' otherwise. Any other Host header may be an attacker's,
    who would have the victim mailed a link to their own host (reset link poisoning)."""
    if current_app.config["BASE_URL"]:
        return current_app.config["BASE_URL"]
    if urlsplit(request.host_url).hostname in LOOPBACK_HOSTS:
        return request.host_url.rstrip("/")
    return ""


def compose_link_mail(flow_title: str, minutes: int, token: str, base: str) -> tuple[str, str]:
    """The text and HTML of the mail that carries a link into the flow titled `flow_title`."""
    variables = {
        "link": base + url_for(LINK_ENDPOINT, token=token),
        "minutes": minutes,
        "flow_title": flow_title,
        "mail_base": base,
    }
    return (
        render_template("mail/flow_link.txt", **variables),
        render_template("mail/flow_link.html", **variables),
    )
