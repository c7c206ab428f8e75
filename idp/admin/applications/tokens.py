"""An application's live tokens (list, revoke) and consent grants, its client secret
rotation (shown once) and the claims preview: what the application would receive about a
user, and whether they may use it at all."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from idp.admin.applications.routes import _render_overview, application_or_404, application_target
from idp.admin.audit import record_change
from idp.applications.access import may_use
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.options import OptionsError
from idp.identity.accounts import find_user
from idp.models import Consent, OAuth2Token, User
from idp.models.types import utcnow
from idp.providers.oauth2.revoking import revoke_tokens
from idp.providers.registry import PROVIDER_TYPES

TOKEN_LIMIT = 200


def _typed(application):
    provider = application.provider
    provider_type = PROVIDER_TYPES.get(provider.type) if provider else None
    if provider_type is None:
        abort(409, description=_("This application's provider type is not installed."))
    try:
        return provider_type, provider_type.parse_options(provider.options)
    except OptionsError:
        abort(409, description=_("This application's provider settings are broken."))


def application_tokens(slug: str):
    application = application_or_404(slug)
    rows = db.session.execute(
        select(OAuth2Token, User.username)
        .outerjoin(User, User.id == OAuth2Token.user_id)
        .where(
            OAuth2Token.application_id == application.id,
            OAuth2Token.revoked_at.is_(None),
        )
        .order_by(OAuth2Token.issued_at.desc())
        .limit(TOKEN_LIMIT)
    ).all()
    now = utcnow()
    live = [
        (token, username)
        for token, username in rows
        if token.access_expires_at > now
        or (token.refresh_expires_at is not None and token.refresh_expires_at > now
            and token.refresh_used_at is None)
    ]  # fmt: skip
    consents = db.session.execute(
        select(Consent, User.username)
        .join(User, User.id == Consent.user_id)
        .where(Consent.application_id == application.id)
        .order_by(User.username)
        .limit(TOKEN_LIMIT)
    ).all()
    return render_template(
        "admin/applications/tokens.html",
        application=application,
        tokens=live,
        consents=consents,
        now=now,
        form=Form(),
    )


def revoke_application_token(slug: str, token_id: int):
    application = application_or_404(slug)
    token = db.session.get(OAuth2Token, token_id)
    if token is None or token.application_id != application.id:
        abort(404, description=_("This application has no such token."))
    # The whole family: a refresh token would otherwise mint a new access token.
    revoke_tokens(OAuth2Token.family == token.family)
    record_change("admin_application_token_revoked", application_target(application), None,
                  {"token": token.id, "user_id": token.user_id})  # fmt: skip
    db.session.commit()
    flash(_("The token was revoked."), "info")
    return redirect(url_for("admin.application_tokens.application_tokens", slug=slug), code=303)


def rotate_application_secret(slug: str):
    application = application_or_404(slug)
    provider_type, options = _typed(application)
    secrets = provider_type.rotate_secret(application.provider, options)
    if secrets is None:
        abort(409, description=_("This application has no secret to rotate."))
    record_change("admin_application_secret_rotated", application_target(application))
    db.session.commit()
    flash(_("A new secret replaces the old one, which no longer works."), "info")
    return _render_overview(application_or_404(slug), secrets=secrets)


def application_preview(slug: str):
    """The claims preview and the simulator: may this user use the application, and why;
    which claims their tokens would carry."""
    application = application_or_404(slug)
    provider_type, options = _typed(application)
    username = (request.args.get("username") or "").strip()
    user = find_user(username, ("username",)) if username else None
    claims = (
        provider_type.preview(application, application.provider, options, user) if user else None
    )
    decision = may_use(application, user) if user else None
    return render_template(
        "admin/applications/preview.html",
        application=application,
        username=username,
        user=user,
        claims=claims,
        decision=decision,
    )
