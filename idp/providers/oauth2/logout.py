"""RP-initiated logout 1.0: the application sends the user here to sign out of Gatehouse.

The session ends through the provider's invalidation flow (or the default one). The user is
sent back only to a post-logout URI the application registered (its redirect URIs count);
anything else ends at Gatehouse's own page."""

from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from flask import abort, redirect, render_template, request, url_for
from joserfc import jws
from joserfc.errors import JoseError
from sqlalchemy import select

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.flows.handoff import seed_flow
from idp.models import Flow
from idp.providers.oauth2 import keys, tokens


def _registered(client, uri: str) -> bool:
    options = client.options
    return bool(uri) and (uri in options.post_logout_redirect_uris or uri in options.redirect_uris)


def _hint_is_ours(client, hint: str) -> bool:
    """An id_token_hint must be a token Gatehouse signed for this client (it may have
    expired: that is the usual case at logout). One signed by a key retired and no longer
    published cannot be checked any more; it is set aside, as if not sent (nothing here
    trusts it: the application is known by the address, the redirect by registration)."""
    if tokens.id_token_hint_claims(client, hint) is not None:
        return True
    return _names_a_key_no_longer_published(hint)


def _names_a_key_no_longer_published(hint: str) -> bool:
    try:
        kid = jws.extract_compact(hint.encode()).protected.get("kid")
    except (JoseError, ValueError, TypeError):
        return False
    return isinstance(kid, str) and keys.was_retired(kid)


def end_session(client):
    values = request.values
    target = values.get("post_logout_redirect_uri", "")
    hint = values.get("id_token_hint", "")
    if values.get("client_id") and values.get("client_id") != client.get_client_id():
        abort(400, description=N_("client_id does not match this application."))
    if hint and not _hint_is_ours(client, hint):
        abort(400, description=N_("The id_token_hint was not issued for this application."))
    if target and not _registered(client, target):
        abort(400, description=N_("This post_logout_redirect_uri is not registered."))
    done = url_for(
        "provider_oauth2.end_session_done_route",
        slug=client.application.slug,
        **({"post_logout_redirect_uri": target} if target else {}),
        **({"state": values["state"]} if target and values.get("state") else {}),
    )
    flow_slug = _invalidation_flow_slug(client)
    if flow_slug is None:
        abort(404, description=N_("There is no sign-out flow."))
    response = redirect(seed_flow(flow_slug, {}, done), code=302)
    db.session.commit()
    return response


def _invalidation_flow_slug(client) -> str | None:
    provider = client.provider
    if provider.invalidation_flow_id is not None:
        return db.session.scalar(select(Flow.slug).where(Flow.id == provider.invalidation_flow_id))
    return db.session.scalar(
        select(Flow.slug).where(Flow.designation == "invalidation").order_by(Flow.slug).limit(1)
    )


def end_session_done(client):
    target = request.args.get("post_logout_redirect_uri", "")
    if target and _registered(client, target):
        state = request.args.get("state")
        return redirect(
            add_params_to_uri(target, [("state", state)]) if state else target, code=302
        )
    return render_template(
        "providers/oauth2/signed_out.html", application=client.application, query=urlencode({})
    )
