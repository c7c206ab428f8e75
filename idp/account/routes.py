"""The visitor's entrances (/login, /logout, ...) and the signed-in user's page (/me)."""

from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext, refresh
from flask_login import current_user
from sqlalchemy import select

from idp.account.forms import ConfirmPasswordForm, LanguageForm
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.http import is_htmx, redirect_to, safe_next, sign_in_address, to_sign_in
from idp.core.i18n import N_, translated
from idp.core.network import client_ip
from idp.credentials import authenticators
from idp.flows import planner
from idp.flows.loading import load_flow
from idp.flows.revision import kept_under_revision
from idp.identity.accounts import confirm_password
from idp.identity.sessions import (
    active_sessions_of,
    end_current_session,
    end_session,
    idle_timeout,
    load_current_session,
    revoke_sessions_of,
)
from idp.identity.site_settings import is_enrollment_open
from idp.models import Flow, UserSession
from idp.policies.engine import PolicyFailure
from idp.policies.initial_setup import setup_is_pending

bp = Blueprint("account", __name__)

ENTRANCES = {
    "login": "authentication",
    "logout": "invalidation",
    "enroll": "enrollment",
    "recover": "recovery",
    "unenroll": "unenrollment",
}
SETUP_FLOW = "initial-setup"
# What an entrance says when no flow of its designation lets this visitor in.
NO_FLOW = {
    "authentication": N_("There is no sign-in flow you can use here."),
    "invalidation": N_("There is no sign-out flow you can use here."),
    "enrollment": N_("There is no sign-up flow you can use here."),
    "recovery": N_("There is no recovery flow you can use here."),
    "unenrollment": N_("There is no account deletion flow you can use here."),
}


def signin_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return to_sign_in()
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


# The flow settings an anonymous visitor may meet only once signed in.
NEEDS_SIGN_IN = ("require_authenticated", "require_superuser")
# Signing in first makes no sense for these: to sign in (it would send /login to itself), or
# to sign out.
NEVER_SIGN_IN_FIRST = ("authentication", "invalidation")


def _signing_in_would_help(designation: str) -> bool:
    """An anonymous visitor, and a flow of the designation that asks for a signed-in user
    (deleting an account needs one)."""
    if current_user.is_authenticated or designation in NEVER_SIGN_IN_FIRST:
        return False
    wanted = select(Flow.slug).where(
        Flow.designation == designation, Flow.authentication.in_(NEEDS_SIGN_IN)
    )
    return db.session.scalar(wanted.limit(1)) is not None


def _sign_in_first():
    """To sign in, and back to this entrance (its `next` kept). An HTMX request goes there as
    a whole page: to_sign_in() would reload the page it came from, which shows it again."""
    response = redirect_to(sign_in_address()) if is_htmx() else to_sign_in()
    response.vary.add("HX-Request")
    return response


def _entrance(designation: str):
    flow = first_usable_flow(designation)
    if flow is None and _signing_in_would_help(designation):
        return _sign_in_first()
    if flow is None and designation == "enrollment" and not is_enrollment_open():
        abort(404, description=planner.SIGN_UP_CLOSED)
    if flow is None:
        abort(404, description=NO_FLOW[designation])
    next_url = safe_next(request.args.get("next"))
    # An application's login_hint goes on to the sign-in flow (it fills the name in).
    hint = request.args.get("login_hint") if designation == "authentication" else None
    return redirect(
        url_for("flow.execute", slug=flow.slug, next=next_url or None, login_hint=hint or None)
    )


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
        # Once set up, the new administrator is offered a second factor at once.
        offer = url_for("account.second_factor", next=url_for("admin.dashboard.dashboard"))
        return redirect(url_for("flow.execute", slug=SETUP_FLOW, next=offer))
    return redirect(url_for("account.login"))


SELF_SERVICE_FLOWS = (
    ("default-password-change", _l("Change your password")),
    ("default-authenticator-totp-setup", _l("Set up an authenticator app")),
    ("default-authenticator-static-setup", _l("Create recovery codes")),
    ("default-authenticator-webauthn-setup", _l("Set up a passkey or security key")),
    ("default-unenrollment-flow", _l("Delete your account")),
)


def _existing_flow_links(flows=SELF_SERVICE_FLOWS) -> list[tuple[str, str]]:
    slugs = kept_under_revision(db.session, EXISTING_FLOWS_KEY, _existing_self_service_flows)
    if slugs is None:
        slugs = _existing_self_service_flows()
    return [(slug, label) for slug, label in flows if slug in slugs]


EXISTING_FLOWS_KEY = "gatehouse.self_service_flows"  # in app.extensions: (revision, slugs)


def _existing_self_service_flows() -> frozenset[str]:
    wanted = {slug for slug, _ in (*SELF_SERVICE_FLOWS, *SECOND_FACTOR_FLOWS)}
    return frozenset(db.session.scalars(select(Flow.slug).where(Flow.slug.in_(wanted))))


# What counts as a second factor here: something a stolen password does not give.
SECOND_FACTORS = (authenticators.TOTP, authenticators.WEBAUTHN)
SECOND_FACTOR_FLOWS = (
    ("default-authenticator-totp-setup", _l("Set up an authenticator app")),
    ("default-authenticator-webauthn-setup", _l("Set up a passkey or security key")),
    ("default-authenticator-static-setup", _l("Create recovery codes")),
)


@bp.get("/me/second-factor")
@signin_required
def second_factor():
    """The offer of a second factor (after the initial setup, from the dashboard's warning):
    the setup flows, each coming back here, and a link to go on without one for now."""
    later = safe_next(request.args.get("next")) or url_for("account.me")
    here = url_for("account.second_factor", next=later)
    kinds = authenticators.kinds_of(current_user, with_passkeys=True)
    return render_template(
        "account/second_factor.html",
        has_second_factor=bool(kinds & set(SECOND_FACTORS)),
        has_recovery_codes=authenticators.RECOVERY_CODES in kinds,
        setup_links=[
            (url_for("flow.execute", slug=slug, next=here), label)
            for slug, label in _existing_flow_links(SECOND_FACTOR_FLOWS)
        ],
        later=later,
    )


@bp.get("/me")
@signin_required
def me():
    current_session = load_current_session()
    own_authenticators = authenticators.list_authenticators(current_user)
    # One form carries the CSRF token of every button on the page (the token is the
    # session's, whichever form renders it); the password form only where it is shown.
    return render_template(
        "account/me.html",
        user=current_user,
        sessions=active_sessions_of(current_user, current_session),
        current_session=current_session,
        idle_timeout=idle_timeout(),
        flow_links=_existing_flow_links(),
        authenticators=own_authenticators,
        confirm_form=ConfirmPasswordForm() if own_authenticators else None,
        language_form=LanguageForm(language=current_user.language or ""),
    )


def _own_authenticator(kind: str, authenticator_id: int):
    """One of the signed-in user's authenticators, or a 404."""
    if kind in authenticators.KINDS:
        for item in authenticators.list_authenticators(current_user):
            if (item.kind, item.id) == (kind, authenticator_id):
                return item
    abort(404, description=_("There is no such authenticator of yours."))


@bp.route("/me/authenticators/<kind>/<int:authenticator_id>/remove", methods=["GET", "POST"])
@signin_required
def remove_authenticator(kind: str, authenticator_id: int):
    """Remove an authenticator once the password confirms it. The GET is the confirmation
    page (what a browser without JavaScript shows; with it, /me opens the same form in a
    dialog); it changes nothing."""
    item = _own_authenticator(kind, authenticator_id)
    form = ConfirmPasswordForm()
    if not form.validate_on_submit():
        return _confirm_removal(item, form)
    refusal = confirm_password(current_user, form.password.data)
    if refusal is not None:
        db.session.commit()  # the failed attempt is counted
        form.password.errors.append(translated(refusal))
        return _confirm_removal(item, form)
    if not authenticators.remove_authenticator(current_user, kind, authenticator_id):
        abort(404, description=_("There is no such authenticator of yours."))
    record_event("authenticator_removed", user=current_user, ip=client_ip(), kind=kind)
    db.session.commit()
    flash(_("%(name)s was removed.", name=item.name), "success")
    return redirect(url_for("account.me"), code=303)


def _confirm_removal(item, form):
    status = 400 if request.method == "POST" else 200
    return render_template("account/remove_authenticator.html", item=item, form=form), status


@bp.post("/me/sessions/others/revoke")
@signin_required
def revoke_other_sessions():
    """Sign out everywhere else."""
    count = revoke_sessions_of(current_user, keep=load_current_session())
    record_event("sessions_revoked", user=current_user, ip=client_ip(), count=count)
    db.session.commit()
    flash(
        ngettext(
            "Signed out of %(num)d other session.", "Signed out of %(num)d other sessions.", count
        ),
        "info",
    )
    return redirect(url_for("account.me"), code=303)


@bp.post("/me/sessions/<int:session_id>/revoke")
@signin_required
def revoke_session(session_id: int):
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != current_user.id or row.revoked_at is not None:
        abort(404, description=_("There is no such session of yours."))
    is_current = row.id == load_current_session().id
    user = current_user._get_current_object()  # ending this session signs it out
    if is_current:
        end_current_session()
    else:
        end_session(row)
    record_event("session_revoked", user=user, ip=client_ip(), session=session_id)
    db.session.commit()
    if is_current:
        return redirect(url_for("account.index"), code=303)
    flash(_("That session was signed out."), "info")
    return redirect(url_for("account.me"), code=303)


@bp.post("/me/language")
@signin_required
def change_language():
    """The language of this user's pages and mails, on every browser; empty: each browser's
    own (Accept-Language). CSRF is checked before the view runs (CSRFProtect)."""
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400, description=_("Choose one of the languages offered."))
    current_user.language = form.language.data or None
    db.session.commit()
    # Said in the language just chosen.
    refresh()
    flash(_("Your language was saved."), "success")
    return redirect(url_for("account.me"), code=303)
