"""The email stage: mails a one-time link that continues the flow, in any browser.

A visitor who names an account nobody has sees the same page, waits the same time and gets
the same plan-context keys as one who names a real account; only no mail leaves.

At enrollment it is the other way round: a new address gets the link that confirms the
account this plan made, and an address that has an account already gets a notice for its
owner (sign in, or recover the password), with no link; the page is the same.
"""

import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, render_template, request, url_for

from idp.brand.settings import DEFAULTS, current_brand
from idp.core.events import record_event
from idp.core.i18n import N_, in_language_of
from idp.core.mail import send_mail
from idp.core.network import client_ip
from idp.flows import once
from idp.flows.context import EMAIL_SENT_FOR, PENDING_USER_ID, PROMPT_DATA, UID
from idp.flows.outcomes import Stay
from idp.flows.plan import with_context
from idp.identity import devices
from idp.identity.signups import email_holder, is_signup_of_plan
from idp.mailed_links.links import (
    STAGE_TYPE,
    compose_link_mail,
    issue_link,
    mail_base_url,
)
from idp.models import User
from idp.protection.mail_limits import CLIENT_IP, DEVICE, RECIPIENT, Limit, take_send
from idp.stages.base import StageType
from idp.stages.email.authentik import AUTHENTIK
from idp.stages.email.forms import ResendForm
from idp.stages.email.options import EmailOptions
from idp.stages.email.routes import bp

log = logging.getLogger("idp.core.mail")

NO_BASE_URL = "no mail sent: set IDP_BASE_URL, links cannot be built from this Host header"
ACCOUNT_EXISTS_SUBJECT = DEFAULTS.account_exists_subject  # the brand may say otherwise
SENT_AGAIN = N_("We sent another link.")
TOO_MANY = N_("You asked for several links; try again later.")
SENT_ON_ARRIVAL = "email_sent"


@dataclass(frozen=True)
class Recipient:
    address: str  # where the mail goes; empty when there is nobody to write to
    user: User | None
    key: str  # what the hourly limit counts: the name as typed, else the address
    shown: str  # what the page names: never more than the visitor typed or gave
    # A sign-up with an address that has an account: its owner gets a notice, not a link.
    has_account_already: bool = False


def recipient_of(ctx) -> Recipient:
    user, has_account_already = ctx.pending_user, False
    if user is None:
        typed_email = (ctx.data.get(PROMPT_DATA) or {}).get("email")
        address = typed_email if isinstance(typed_email, str) else ""
        user, has_account_already = _account_of_signup(ctx, address)
    else:
        address = user.email or ""
    may_write = user is None or user.is_active or ctx.options.activate_user_on_success
    if not (may_write or has_account_already):
        address = ""
    # A name typed at identification is shown and counted as typed, whether it matches an
    # account or not: showing the account's address would tell that it exists.
    typed = ctx.data.get(UID) if ctx.data.get(PENDING_USER_ID) is None else None
    named = (typed or address).strip()
    return Recipient(
        address, user if address else None, named.lower(), masked(named), has_account_already
    )


def _account_of_signup(ctx, address: str) -> tuple[User | None, bool]:
    """At enrollment, the account the typed address belongs to, and whether it is someone
    else's than the one this plan made (a lapsed sign-up belongs to nobody)."""
    if not address or ctx.flow.designation != "enrollment":
        return None, False
    holder = email_holder(address)
    if holder is None:
        return None, False
    return holder, not is_signup_of_plan(holder, ctx.plan_id)


def _typed_signup_address(ctx) -> str:
    if ctx.flow.designation != "enrollment" or ctx.data.get(UID):
        return ""
    typed = (ctx.data.get(PROMPT_DATA) or {}).get("email")
    return typed.strip() if isinstance(typed, str) else ""


def masked(value: str) -> str:
    """alice@example.com -> a***@example.com; a username stays as typed."""
    local, at, domain = value.rpartition("@")
    if not at or not local:
        return value
    return f"{local[0]}***@{domain}"


class EmailStage(StageType):
    """Sends a link on arrival; the flow goes on where the link is opened."""

    name = STAGE_TYPE
    label = N_("Email")
    description = N_("Mails a one-time link that continues the flow (verifies the address).")
    Options = EmailOptions
    authentik = AUTHENTIK
    form_class = ResendForm
    blueprint = bp

    def on_reach(self, ctx):
        if ctx.data.get(EMAIL_SENT_FOR) == ctx.binding.id:
            return None
        updates = {EMAIL_SENT_FOR: ctx.binding.id}
        # A cookie replayed from before this stage (or a parallel request of the plan) finds
        # the arrival's mail sent already: the page is the same, and no other mail leaves.
        # Over the hourly limit nothing is sent either, and the page stays the same.
        if once.claim(ctx.plan_id, once.effect_of(ctx, SENT_ON_ARRIVAL)):
            self.send_link(ctx, updates)
        return updates

    def render(self, ctx) -> dict:
        signup_address = _typed_signup_address(ctx)
        return {
            # A sign-up shows the address as the visitor typed it: it is theirs to check for
            # a typo, and the page reads the same whether the address had an account or not.
            "signup_address": signup_address,
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
        if not take_send(send_limits(ctx, recipient)):
            return False
        plan = kept_plan(ctx, {**ctx.data, **updates})
        is_real = bool(recipient.address)
        # The notice carries no link, but its token row is made all the same: the same work,
        # and the hourly limit counts it.
        has_link = is_real and not recipient.has_account_already
        token = issue_link(
            flow_slug=ctx.flow.slug,
            user_id=recipient.user.id if has_link and recipient.user else None,
            recipient_key=recipient.key,
            plan=plan if has_link else {},
            lifetime=timedelta(minutes=ctx.options.token_expiry_minutes),
        )
        base = mail_base_url()
        with in_language_of(recipient.user):
            if recipient.has_account_already:
                subject = current_brand().branded(current_brand().account_exists_subject)
                text, html = compose_account_exists_mail(ctx, base)
            else:
                subject, (text, html) = (
                    current_brand().branded(ctx.options.subject),
                    compose_link_mail(
                        current_brand().branded(ctx.flow.title or ctx.flow.name),
                        ctx.options.token_expiry_minutes,
                        token,
                        base,
                    ),
                )
        record_event(
            "email_link_requested",
            user=recipient.user if is_real else None,
            username=recipient.key,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            sent=is_real,
            mail="account_exists" if recipient.has_account_already else "link",
        )
        if is_real and not base:
            log.error(NO_BASE_URL, extra={"host": request.host[:200]})
        elif is_real:
            send_mail(recipient.address, subject, text, html)
        return True


def send_limits(ctx, recipient: Recipient) -> list[Limit]:
    """What one more link counts against: the name typed (or address) and the client IP;
    or, when the account's owner asks from a browser they signed in on before, that device
    alone, so strangers who spent the name's or their network's hour do not lock them out."""
    device = devices.trusted_device_of(recipient.user)
    if device:
        return [Limit(DEVICE, f"{recipient.user.id}:{device}", ctx.options.sends_per_hour)]
    return [
        Limit(RECIPIENT, recipient.key, ctx.options.sends_per_hour),
        Limit(CLIENT_IP, client_ip(), ctx.options.sends_per_hour_per_ip),
    ]


def kept_plan(ctx, context: dict) -> dict:
    """The plan the link resumes: this one, at this stage, with this context."""
    return with_context(ctx.plan_snapshot, context)


def compose_account_exists_mail(ctx, base: str) -> tuple[str, str]:
    variables = {
        "login_link": base + url_for("account.login"),
        "recover_link": base + url_for("account.recover"),
        "flow_title": current_brand().branded(ctx.flow.title or ctx.flow.name),
        "mail_base": base,
        "signup_hours": current_app.config["UNCONFIRMED_SIGNUP_LIFETIME"] // 3600,
    }
    return (
        render_template("stages/email/account_exists.txt", **variables),
        render_template("stages/email/account_exists.html", **variables),
    )
