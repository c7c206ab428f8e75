"""The visitor's entrances (/login, /logout, ...) and the signed-in user's page (/me)."""

from functools import wraps

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from idp.extensions import db
from idp.flows import planner
from idp.flows.executor import safe_next
from idp.flows.loading import load_flow
from idp.models import Flow
from idp.policies.engine import PolicyFailure
from idp.policies.initial_setup import setup_is_pending
from idp.sessions import active_sessions_of, load_current_session

bp = Blueprint("account", __name__)

ENTRANCES = {
    "login": "authentication",
    "logout": "invalidation",
    "enroll": "enrollment",
    "recover": "recovery",
    "unenroll": "unenrollment",
}
SETUP_FLOW = "initial-setup"


def signin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def first_usable_flow(designation: str) -> Flow | None:
    """The first flow of the designation, by slug, whose gate lets this visitor in."""
    user = current_user if current_user.is_authenticated else None
    slugs = db.session.scalars(
        select(Flow.slug).where(Flow.designation == designation).order_by(Flow.slug)
    )
    for slug in list(slugs):
        flow = load_flow(slug)
        try:
            policy_request = planner.build_policy_request(flow, {}, user)
            if planner.check_access(flow, policy_request, user) is None:
                return flow
        except PolicyFailure:
            continue  # fail closed: a flow whose gate errors is not offered
    return None


def _entrance(designation: str):
    flow = first_usable_flow(designation)
    if flow is None:
        abort(404, description=f"There is no {designation} flow you can use here.")
    next_url = safe_next(request.args.get("next"))
    return redirect(url_for("flow.execute", slug=flow.slug, next=next_url or None))


for _endpoint, _designation in ENTRANCES.items():
    bp.add_url_rule(
        f"/{_endpoint}",
        endpoint=_endpoint,
        view_func=lambda designation=_designation: _entrance(designation),
    )


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("account.me"))
    if setup_is_pending() and load_flow(SETUP_FLOW) is not None:
        return redirect(url_for("flow.execute", slug=SETUP_FLOW))
    return redirect(url_for("account.login"))


@bp.get("/me")
@signin_required
def me():
    current = load_current_session()
    return render_template(
        "account/me.html",
        user=current_user,
        sessions=active_sessions_of(current_user),
        current_session=current,
    )
