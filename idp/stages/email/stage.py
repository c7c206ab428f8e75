"""The email stage: mails a one-time link that continues the flow, in any browser.

A visitor who names an account nobody has sees the same page, waits the same time and gets
the same plan-context keys as one who names a real account; only no mail leaves.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template, request, url_for

from idp.events import record_event
from idp.flows.context import EMAIL_SENT_FOR, PENDING_USER_ID, PROMPT_DATA, UID
from idp.flows.outcomes import Stay
from idp.mail import send_mail
from idp.models import User
from idp.network import client_ip
from idp.stages.base import StageType
from idp.stages.email.forms import OptionsForm, ResendForm
from idp.stages.email.links import STAGE_TYPE, issue_link, links_in_the_last_hour
from idp.stages.email.options import EmailOptions
from idp.stages.email.routes import bp

SENT_AGAIN = "We sent another link."
TOO_MANY = "You asked for several links; try again later."


@dataclass(frozen=True)
class Recipient:
    address: str  # where the mail goes; empty when there is nobody to write to
    user: User | None
    key: str  # what the hourly limit counts: the name as typed, else the address
    shown: str  # what the page names: never more than the visitor typed or gave


def recipient_of(ctx) -> Recipient:
    user = ctx.pending_user
    if user is not None:
        may_write = user.is_active or ctx.options.activate_user_on_success
        address = (user.email or "") if may_write else ""
    else:
        typed_email = (ctx.data.get(PROMPT_DATA) or {}).get("email")
        address = typed_email if isinstance(typed_email, str) else ""
    # A name typed at identification is shown and counted as typed, whether it matches an
    # account or not: showing the account's address would tell that it exists.
    typed = ctx.data.get(UID) if ctx.data.get(PENDING_USER_ID) is None else None
    named = (typed or address).strip()
    return Recipient(address, user if address else None, named.lower(), masked(named))


def masked(value: str) -> str:
    """alice@example.com -> a***@example.com; a username stays as typed."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return value
    return f"{local[0]}***@{domain}"


class EmailStage(StageType):
    """Sends a link on arrival; the flow goes on where the link is opened."""

    name = STAGE_TYPE
    label = "Email"
    description = "Mails a one-time link that continues the flow (verifies the address)."
    Options = EmailOptions
    options_form = OptionsForm
    form_class = ResendForm
    blueprint = bp

    def on_reach(self, ctx):
        if ctx.data.get(EMAIL_SENT_FOR) == ctx.binding.id:
            return None
        updates = {EMAIL_SENT_FOR: ctx.binding.id}
        # Over the hourly limit nothing is sent, and the page stays the same.
        self.send_link(ctx, updates)
        return updates

    def render(self, ctx) -> dict:
        return {
            "recipient": recipient_of(ctx).shown,
            "minutes": ctx.options.token_expiry_minutes,
        }

    def submit(self, ctx, form):
        return Stay(SENT_AGAIN if self.send_link(ctx, {}) else TOO_MANY)

    def send_link(self, ctx, updates) -> bool:
        """Issue a token and mail its link. False when the hourly limit is reached.

        The token row, the plan and the mail text are made whether the account exists or
        not, so both take the same work; only a real recipient gets the plan and the mail.
        """
        recipient = recipient_of(ctx)
        if links_in_the_last_hour(recipient.key) >= ctx.options.sends_per_hour:
            return False
        plan = kept_plan(ctx, {**ctx.data, **updates})
        is_real = bool(recipient.address)
        token = issue_link(
            flow_slug=ctx.flow.slug,
            user_id=recipient.user.id if is_real and recipient.user else None,
            recipient_key=recipient.key,
            plan=plan if is_real else {},
            lifetime=timedelta(minutes=ctx.options.token_expiry_minutes),
        )
        text, html = compose_mail(ctx, token)
        record_event(
            "email_link_requested",
            user=recipient.user if is_real else None,
            username=recipient.key,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            sent=is_real,
        )
        if is_real:
            send_mail(recipient.address, ctx.options.subject, text, html)
        return True


def kept_plan(ctx, context: dict) -> dict:
    """The plan the link resumes: this one, at this stage, with this context."""
    return {**ctx.plan_snapshot, "context": dict(context)}


def compose_mail(ctx, token: str) -> tuple[str, str]:
    base = current_app.config["BASE_URL"] or request.host_url.rstrip("/")
    variables = {
        "link": base + url_for("stage_email.open_link", token=token),
        "minutes": ctx.options.token_expiry_minutes,
        "flow_title": ctx.flow.title or ctx.flow.name,
    }
    return (
        render_template("stages/email/mail.txt", **variables),
        render_template("stages/email/mail.html", **variables),
    )
