"""/me/applications: the applications the signed-in user may use (launch links), and the
consents they gave, each revocable (which also ends that application's tokens and the codes
not yet exchanged)."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from idp.applications.access import facts_from_request, may_use
from idp.applications.loading import load_applications
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.network import client_ip
from idp.identity.accounts import groups_of
from idp.models import Application, Consent, OAuth2Token
from idp.models.types import utcnow
from idp.providers.oauth2 import purge
from idp.providers.oauth2.revoking import revoke_tokens

bp = Blueprint("applications", __name__, template_folder="templates")


@bp.get("/me/applications")
@login_required
def mine():
    user = current_user._get_current_object()
    facts = facts_from_request()
    groups = groups_of(user)  # once, not once per application
    usable = [app for app in load_applications() if may_use(app, user, facts, groups).allowed]
    consents = db.session.execute(
        select(Consent, Application)
        .join(Application, Application.id == Consent.application_id)
        .where(Consent.user_id == user.id)
        .order_by(Application.name)
    ).all()
    return render_template(
        "applications/mine.html",
        applications=usable,
        consents=consents,
        now=utcnow(),
        form=Form(),
    )


@bp.post("/me/applications/consents/<int:consent_id>/revoke")
@login_required
def revoke_consent(consent_id: int):
    consent = db.session.get(Consent, consent_id)
    if consent is None or consent.user_id != current_user.id or consent.application_id is None:
        abort(404, description="You gave no such consent.")
    application_id = consent.application_id
    db.session.delete(consent)
    # Before the tokens: an exchange holding a code's row lock has then committed, and the
    # update below sees what it issued.
    purge.drop_unexchanged_codes_of(current_user.id, application_id)
    # Likewise a refresh under way: revoke_tokens waits for it, then revokes what it issued.
    revoke_tokens(
        OAuth2Token.user_id == current_user.id, OAuth2Token.application_id == application_id
    )
    record_event("consent_revoked", user=current_user, ip=client_ip(), subject=str(application_id))
    db.session.commit()
    flash("The consent was withdrawn; the application must ask again.", "info")
    return redirect(url_for("applications.mine"), code=303)
