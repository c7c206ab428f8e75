"""/flow/email/<token>: the mailed link. It continues the flow in the browser that opens it.

Following a link proves the address and nothing more: it signs nobody in, unless the flow's
later stages do.
"""

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.fetch_metadata import may_act_on_get
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.core.options import OptionsError, parse_options
from idp.flows.context import EMAIL_VERIFIED, PENDING_USER_ID
from idp.flows.loading import flow_fingerprint, load_flow
from idp.flows.plan import FlowPlan, plan_from_dict, resume_plan
from idp.flows.planner import build_policy_request, check_access
from idp.mailed_links.links import STAGE_TYPE, find_link, is_usable, use_link
from idp.models import User
from idp.policies.engine import PolicyFailure
from idp.stages.email.options import EmailOptions

bp = Blueprint("stage_email", __name__, template_folder="templates")

INVALID = N_("This link is not valid. Copy the whole link from the mail, or start again.")
SPENT = N_("This link was already used or has expired. Start again to get a new one.")
CHANGED = N_("This flow changed after the link was sent. Start again to get a new one.")
UNCHECKED = N_("A rule for this step could not be checked. Please try again later.")


@bp.route("/flow/email/<token>", methods=["GET", "POST"])
def open_link(token: str):
    """Use the link once: the flow continues here, after the stage that sent it."""
    link = find_link(token)
    kept = plan_from_dict(link.plan) if link is not None else None
    if kept is None:
        return _page(400, message=INVALID)
    if not is_usable(link):
        return _page(410, message=SPENT, slug=link.flow_slug)
    flow = load_flow(link.flow_slug)
    options = _options_of_sending_stage(flow, kept)
    if options is None:
        return _page(410, message=CHANGED, slug=link.flow_slug)
    updates = {EMAIL_VERIFIED: True}
    if link.user_id is not None:
        updates[PENDING_USER_ID] = link.user_id
    refusal = _refusal(flow, {**kept.context, **updates})
    if refusal:
        return _page(403, message=refusal, slug=link.flow_slug)
    if request.method == "GET" and not _opened_directly():
        # Webmail, another site, or a mail scanner that fetches every link: wait for a click
        # that carries a CSRF token, so neither a page nor a scanner spends the link.
        return _page(200, confirm=True)
    if not use_link(link) or resume_plan(link.plan, updates, _plan_lifetime()) is None:
        db.session.rollback()
        return _page(410, message=SPENT, slug=link.flow_slug)
    user = db.session.get(User, link.user_id) if link.user_id is not None else None
    if user is not None and _mailed_to_current_address(link, user):
        user.mark_email_verified()
    if user is not None and options.activate_user_on_success and not user.is_active:
        user.is_active = True
        record_event("user_activated", user=user, ip=client_ip(), flow_slug=flow.slug)
    record_event("email_link_used", user=user, ip=client_ip(), flow_slug=flow.slug)
    db.session.commit()
    return _no_referrer(redirect(url_for("flow.execute", slug=flow.slug), code=303))


def _mailed_to_current_address(link, user: User) -> bool:
    """The link went to the address the account has now, so following it proves it: the
    address was what the visitor typed, or the account has not changed since the mail."""
    if not user.email:
        return False
    return link.email == user.email.lower() or user.updated_at <= link.created_at


def _opened_directly() -> bool:
    """A browser that says it was not sent by another site (typed, pasted, or opened from a
    mail program). Scanners send no Fetch Metadata at all."""
    return may_act_on_get()


def _options_of_sending_stage(flow, plan: FlowPlan) -> EmailOptions | None:
    """The options of the stage that sent the link, if the flow is still the version the
    plan was made from (else the resumed plan would be discarded anyway)."""
    if flow is None or plan.fingerprint != flow_fingerprint(flow):
        return None
    binding_id = plan.current_binding_id
    binding = next((binding for binding in flow.bindings if binding.id == binding_id), None)
    if binding is None or binding.stage.type != STAGE_TYPE:
        return None
    try:
        return parse_options(EmailOptions, binding.stage.options)
    except OptionsError:
        return None


def _refusal(flow, context: dict) -> str | None:
    """The flow's own gate for this browser, checked before the link is spent."""
    signed_in = current_user if current_user.is_authenticated else None
    try:
        denial = check_access(flow, build_policy_request(flow, context, signed_in), signed_in)
    except PolicyFailure:
        return UNCHECKED
    return denial.message if denial else None


def _plan_lifetime() -> int:
    return current_app.config["FLOW_PLAN_LIFETIME"]


def _page(status: int, message: str = "", slug: str | None = None, confirm: bool = False):
    body = render_template("stages/email/link.html", message=message, slug=slug, confirm=confirm)
    return _no_referrer(make_response(body, status))


def _no_referrer(response):
    # The token is in this page's address: no other request may carry it in a Referer.
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response
