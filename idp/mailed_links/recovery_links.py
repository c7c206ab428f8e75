"""A recovery link an administrator sends: the mail a user would get from the recovery flow's
email stage after naming their account, made without the user having asked.

The link resumes the recovery flow just after its email stage, so everything after it still
runs: a user with a second factor is asked for it before choosing a new password (the
mailbox alone is never enough). The token is kept only as its hash; the link goes into the
mail and nowhere else (not the page, not the log, not the event).
"""

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from idp.brand.settings import current_brand
from idp.core.extensions import db
from idp.core.i18n import in_language_of
from idp.core.mail import send_mail
from idp.core.options import OptionsError, parse_options
from idp.flows import planner
from idp.flows.context import EMAIL_SENT_FOR, UID, UID_FIELDS
from idp.flows.loading import flow_fingerprint, load_flow
from idp.flows.plan import plan_to_dict
from idp.mailed_links.links import (
    STAGE_TYPE,
    compose_link_mail,
    issue_link,
    mail_base_url,
)
from idp.models import Flow, StageBinding, User
from idp.policies.engine import PolicyFailure
from idp.protection.mail_limits import RECIPIENT, Limit, take_send
from idp.stages.email.options import EmailOptions


class RecoveryLinkRefused(Exception):
    """No link was sent; the message says why, for the administrator."""


def send_recovery_link(user: User) -> Flow:
    """Mail `user` a link into the recovery flow; the recovery flow it leads into. Raises
    RecoveryLinkRefused when there is no address, no usable flow, or too many links."""
    address = (user.email or "").strip()
    if not address:
        raise RecoveryLinkRefused(
            f"{user.username} has no email address, so no link can be sent. "
            "Add one under Edit details, or set a password for them."
        )
    if not user.is_active:
        raise RecoveryLinkRefused(f"{user.username} is disabled. Enable the account first.")
    base = mail_base_url()
    if not base:
        raise RecoveryLinkRefused("Set IDP_BASE_URL first: mailed links are built from it.")
    flow, binding, options = _recovery_flow_with_email_stage()
    key = address.lower()
    # Counted with the links the recovery flow mails to the address, not per IP: the
    # administrator is not a stranger.
    if not take_send([Limit(RECIPIENT, key, options.sends_per_hour)]):
        raise RecoveryLinkRefused(
            f"{options.sends_per_hour} links were mailed to this address in the last hour "
            "already. Try again later."
        )
    token = issue_link(
        flow_slug=flow.slug,
        user_id=user.id,
        recipient_key=key,
        plan=_plan_at(flow, binding, user),
        lifetime=timedelta(minutes=options.token_expiry_minutes),
    )
    brand = current_brand()
    with in_language_of(user):
        title = brand.branded(flow.title or flow.name)
        text, html = compose_link_mail(title, options.token_expiry_minutes, token, base)
        subject = brand.branded(options.subject)
    send_mail(address, subject, text, html)
    return flow


def _recovery_flow_with_email_stage() -> tuple[Flow, StageBinding, EmailOptions]:
    """The first recovery flow (by slug) with a working email stage, and that stage."""
    slugs = db.session.scalars(
        select(Flow.slug).where(Flow.designation == "recovery").order_by(Flow.slug)
    )
    for slug in list(slugs):
        flow = load_flow(slug)
        for binding in flow.bindings:
            if binding.stage.type != STAGE_TYPE:
                continue
            try:
                return flow, binding, parse_options(EmailOptions, binding.stage.options)
            except OptionsError:
                continue
    raise RecoveryLinkRefused(
        "There is no recovery flow with an email stage to send a link into. "
        "Import or build one first (Flows)."
    )


def _plan_at(flow: Flow, binding: StageBinding, user: User) -> dict:
    """The plan the recovery flow would make for someone who named this account, standing
    at its email stage, as the email stage keeps it for its link."""
    context = {UID: user.username, UID_FIELDS: ["username"], EMAIL_SENT_FOR: binding.id}
    try:
        plan = planner.make_plan(
            flow,
            planner.build_policy_request(flow, context, None),
            flow_fingerprint(flow),
            current_app.config["FLOW_PLAN_LIFETIME"],
        )
    except PolicyFailure:
        raise RecoveryLinkRefused(
            f"A policy of the flow {flow.slug} could not be checked, so no link was sent."
        ) from None
    if binding.id not in plan.bindings:
        raise RecoveryLinkRefused(
            f"The flow {flow.slug} skips its email step for {user.username}, so no link was sent."
        )
    plan.position = plan.bindings.index(binding.id)
    plan.context = context
    return plan_to_dict(plan)
