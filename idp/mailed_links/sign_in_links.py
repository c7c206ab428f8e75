"""The mailed sign-in link that lets a password be weighed past a long run of failures.

When idp.protection.attempts says an account needs proof, the password check calls send_link: the
account's address gets a one-time link (at most one per IDP_LOGIN_PROOF_MAIL_INTERVAL, counted
by one atomic upsert), and the page says the same whether the name is an account, has an
address, or not. The link resumes the plan at the stage that asked for the password, in the
browser that opens it, marked as proved for that account; its passwords are then counted
against the plan alone.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import delete, select, update

from idp.brand.settings import current_brand
from idp.core.database import upsert_for
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import in_language_of
from idp.core.mail import send_mail
from idp.core.network import client_ip
from idp.flows.context import SIGN_IN_PROVED_FOR
from idp.flows.plan import resume_plan
from idp.mailed_links.links import mail_base_url
from idp.models import FailedAttempts, FlowToken
from idp.models.types import utcnow

bp = Blueprint("sign_in_links", __name__)

PURPOSE = "sign_in_proof"
MAIL_SCOPE = "proof_mail"
LINK_LIFETIME = timedelta(hours=1)
MAX_TOKEN_LENGTH = 100

INVALID = "This link is not valid. Copy the whole link from the mail, or start again."
SPENT = "This link was already used or has expired. Sign in again to get a new one."


def send_link(ctx, account: str, user) -> None:
    """Mail the account a sign-in link, unless one went out within the interval.

    The same work whether `user` (the account, when it exists, is active and has an
    address) is there or not: the limit, the token row and the mail text; only no mail
    leaves, and the row resumes no plan."""
    if not _may_mail(account):
        return
    address = (user.email or "").strip() if user is not None else ""
    token = secrets.token_urlsafe(32)
    db.session.add(
        FlowToken(
            token_hash=_hash(token),
            purpose=PURPOSE,
            flow_slug=ctx.flow.slug,
            user_id=user.id if address else None,
            email=account[:254],
            plan={"plan": ctx.plan_snapshot, "account": account} if address else {},
            requested_ip=client_ip(),
            expires_at=utcnow() + LINK_LIFETIME,
        )
    )
    db.session.flush()
    base = mail_base_url()
    with in_language_of(user):
        text = render_template(
            "mail/sign_in_link.txt",
            link=base + url_for("sign_in_links.open_proof_link", token=token),
            minutes=int(LINK_LIFETIME.total_seconds() // 60),
            flow_title=current_brand().branded(ctx.flow.title or ctx.flow.name),
        )
        subject = current_brand().branded(current_brand().sign_in_link_subject)
    record_event(
        "sign_in_link_requested",
        user=user if address else None,
        username=account,
        ip=client_ip(),
        flow_slug=ctx.flow.slug,
        sent=bool(address and base),
    )
    if address and base:
        send_mail(address, subject, text)


def _may_mail(account: str) -> bool:
    """Take the account's mail slot in one statement: True when none was taken within the
    interval (parallel requests: exactly one wins)."""
    now = utcnow()
    interval = timedelta(seconds=current_app.config["LOGIN_PROOF_MAIL_INTERVAL"])
    table = FailedAttempts.__table__
    taken = db.session.execute(
        upsert_for(db.session.get_bind())(FailedAttempts)
        .values(scope=MAIL_SCOPE, key=account[:255], failures=1, last_failure_at=now)
        .on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={"failures": table.c.failures + 1, "last_failure_at": now},
            where=table.c.last_failure_at <= now - interval,
        )
        .returning(table.c.failures)
    ).scalar()
    return taken is not None


def purge_mail_slots() -> int:
    """Delete the accounts' mail slots whose interval is over (the next link would take a
    new one); how many. The caller commits."""
    interval = timedelta(seconds=current_app.config["LOGIN_PROOF_MAIL_INTERVAL"])
    over = FailedAttempts.last_failure_at <= utcnow() - interval
    return db.session.execute(
        delete(FailedAttempts).where(FailedAttempts.scope == MAIL_SCOPE, over)
    ).rowcount


@bp.route("/flow/sign-in-link/<token>", methods=["GET", "POST"])
def open_proof_link(token: str):
    """Use the link once: the flow's password stage is asked again, in this browser."""
    link = _find(token)
    if link is None or not link.plan:
        return _page(400, message=INVALID)
    if link.used_at is not None or link.expires_at <= utcnow():
        return _page(410, message=SPENT, slug=link.flow_slug)
    if request.method == "GET" and request.headers.get("Sec-Fetch-Site") not in (
        "none",
        "same-origin",
    ):
        # Webmail, another site or a mail scanner: wait for a click that carries a CSRF token.
        return _page(200, confirm=True)
    now = utcnow()
    won = db.session.execute(
        update(FlowToken)
        .where(FlowToken.id == link.id, FlowToken.used_at.is_(None), FlowToken.expires_at > now)
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    lifetime = current_app.config["FLOW_PLAN_LIFETIME"]
    updates = {SIGN_IN_PROVED_FOR: link.plan["account"]}
    if won != 1 or resume_plan(link.plan["plan"], updates, lifetime, advance=False) is None:
        db.session.rollback()
        return _page(410, message=SPENT, slug=link.flow_slug)
    record_event("sign_in_link_used", username=link.email, ip=client_ip(), flow_slug=link.flow_slug)
    db.session.commit()
    return _no_referrer(redirect(url_for("flow.execute", slug=link.flow_slug), code=303))


def _find(token: str) -> FlowToken | None:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return db.session.scalar(
        select(FlowToken).where(FlowToken.token_hash == _hash(token), FlowToken.purpose == PURPOSE)
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _page(status: int, message: str = "", slug: str | None = None, confirm: bool = False):
    body = render_template("stages/email/link.html", message=message, slug=slug, confirm=confirm)
    return _no_referrer(make_response(body, status))


def _no_referrer(response):
    # The token is in this page's address: no other request may carry it in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
