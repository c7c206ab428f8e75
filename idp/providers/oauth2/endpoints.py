"""The OpenID Connect endpoints' views. Their URLs are in routes.py; this module, and with it
authlib, joserfc and cryptography, is imported on the first request to one of them."""

import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from flask import abort, g, jsonify, make_response, redirect, render_template, request
from flask_login import current_user
from sqlalchemy import update

from idp.applications.access import facts_from_request, may_use
from idp.core import metrics
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.core.options import OptionsError, parse_options
from idp.flows.handoff import DECLINED, seed_flow
from idp.flows.loading import load_running_flow
from idp.identity import sessions
from idp.models import AuthorizationRequest, Flow
from idp.models.types import utcnow
from idp.providers.oauth2 import clients, keys, tokens
from idp.providers.oauth2.claims import subject_of
from idp.providers.oauth2.discovery import discovery_document
from idp.providers.oauth2.logout import end_session, end_session_done
from idp.providers.oauth2.options import SCOPES, OAuth2Options
from idp.providers.oauth2.refusals import description_in_words
from idp.providers.oauth2.returning import (
    FORM_POST,
    FORM_POST_POLICY,
    FRAGMENT,
    answer_client,
    mode_problem,
    move_answer,
    response_mode_of,
)
from idp.providers.oauth2.routes import AUTHORIZE_PATH, OPEN_TO_SCRIPTS
from idp.providers.oauth2.scope_mappings import claims_for, load_scope_mappings, permissions_for
from idp.providers.oauth2.server import client_of, server
from idp.stages.consent.options import ConsentOptions
from idp.stages.consent.stage import application_consent_covers

HANDLE = "authorization_request"
REQUEST_LIFETIME = timedelta(minutes=30)
# The parameters that only Gatehouse adds or that a forced sign-in has dealt with (and of
# prompt, the value login: _return_path keeps the others).
SETTLED = (HANDLE, "max_age")
# RFC 6749 3.1: no parameter more than once. authlib refuses its own repeated (client_id,
# redirect_uri, response_type, scope, state, code_challenge and its method); of these,
# Gatehouse would read the first while the client may trust the last.
ONCE_ONLY = (
    "response_mode", "nonce", "prompt", "max_age", "id_token_hint", "login_hint", "display",
    "ui_locales", "claims_locales", "acr_values", "claims", "request", "request_uri",
)  # fmt: skip
# Where an authorization request stands once its flow was asked about.
DONE, PENDING = "done", "pending"


def _open_to_scripts(response):
    """Clients in a browser (single-page apps) call these with fetch; no cookie is used."""
    response.headers.update(OPEN_TO_SCRIPTS)
    return response


# -- authorization ----------------------------------------------------------------------------


def authorize_by_post():
    """OpenID Connect Core 3.1.2.1: the authorization endpoint takes POST too. The form is
    another site's (no CSRF token to carry); it is turned into the same request by GET, so
    it changes nothing and is decided exactly as a GET is."""
    pairs = list(request.form.items(multi=True))
    if not request.form.get("client_id") or not request.form.get("response_type"):
        abort(400, description=N_("This sign-in request names no client or response type."))
    return redirect(f"{AUTHORIZE_PATH}?{urlencode(pairs)}", code=303)


def authorize():
    user = current_user._get_current_object() if current_user.is_authenticated else None
    try:
        grant = server.get_consent_grant(end_user=user)
    except OAuth2Error as error:
        return _refused(_missing_response_type(error))
    except ValueError:
        # authlib cannot even phrase its error for some values (a quote in response_type).
        abort(400, description=N_("This sign-in request has parameters Gatehouse cannot read."))
    client = grant.request.client
    application = client.application
    data = grant.request.payload.data
    prompts = set((data.get("prompt") or "").split())
    problem = _malformed(data, prompts, grant.request.payload.redirect_uri)
    if problem:
        return _error_redirect(grant, *problem)
    session_row = sessions.load_current_session() if user else None
    if user is None or session_row is None or _must_sign_in_again(data, prompts, session_row):
        if "none" in prompts:
            return _error_redirect(grant, "login_required", "The user is not signed in.")
        return _send_to_sign_in(application)
    if _hint_refuses(client, user, data, silent="none" in prompts):
        return _error_redirect(grant, "login_required", "Another user is signed in.")
    decision = may_use(application, user, facts_from_request())
    if not decision.allowed:
        record_event(
            "oauth2_access_denied", user=user, ip=client_ip(), subject=application.slug,
            reasons=list(decision.reasons),
        )  # fmt: skip
        db.session.commit()
        if "none" in prompts:
            # No page may be shown; the redirect URI is the client's own, checked.
            return _error_redirect(grant, "access_denied", "The user may not use this application.")
        metrics.OAUTH2_AUTHORIZATIONS.labels("denied").inc()
        return _denied(grant, application)
    scopes = (grant.request.scope or "").split()
    flow_state = _authorization_flow_state(client, user, scopes, prompts)
    if flow_state == DECLINED:
        # The user said no on Gatehouse's own consent page: safe to tell the client.
        return _error_redirect(grant, "access_denied", "The user declined.")
    if flow_state != DONE:
        if "none" in prompts:
            return _cannot_ask_silently(grant)
        return _run_authorization_flow(application, user, scopes, prompts)
    g.oauth2_authorization = {"session_id": session_row.id, "auth_time": session_row.created_at}
    redirect_uri = grant.request.payload.redirect_uri
    response = move_answer(
        server.create_authorization_response(grant_user=user, grant=grant),
        redirect_uri, response_mode_of(data, redirect_uri), application,
    )  # fmt: skip
    record_event(
        "oauth2_authorized", user=user, ip=client_ip(), subject=application.slug,
        scope=" ".join(scopes),
    )  # fmt: skip
    db.session.commit()
    metrics.OAUTH2_AUTHORIZATIONS.labels("code").inc()
    return response


def _malformed(data, prompts, redirect_uri) -> tuple[str, str] | None:
    """(error, description) for what Gatehouse answers with an error before anything else."""
    mode_wrong = mode_problem(data, redirect_uri)
    if mode_wrong:
        return "invalid_request", mode_wrong
    for parameter in ONCE_ONLY:
        if len(request.args.getlist(parameter)) > 1:
            return "invalid_request", f"{parameter} is given more than once."  # RFC 6749 3.1
    for parameter in ("request", "request_uri"):
        if data.get(parameter):
            # OpenID Connect Core 6: request objects are not supported (discovery says so).
            return f"{parameter}_not_supported", f"{parameter} is not supported."
    max_age = data.get("max_age")
    if max_age is not None and not (max_age.isascii() and max_age.isdigit()):
        return "invalid_request", "max_age is a number of seconds."
    if "none" in prompts and len(prompts) > 1:
        # OpenID Connect Core 3.1.2.1: none with any other value is an error.
        return "invalid_request", "prompt=none stands alone."
    return None


def _hint_refuses(client, user, data, silent: bool) -> bool:
    """OpenID Connect Core 3.1.2.1 and 3.1.2.2: with an id_token_hint, a positive answer is
    only for the user it names, never for another who happens to be signed in. A hint
    Gatehouse cannot check (a retired key, say) names nobody: a silent request is refused,
    any other leaves it aside."""
    hint = data.get("id_token_hint")
    if not hint:
        return False
    hinted = tokens.id_token_hint_claims(client, hint)
    if hinted is None:
        return silent
    return hinted.get("sub") != subject_of(user)


def _must_sign_in_again(data, prompts, session_row) -> bool:
    """prompt=login, or a sign-in older than max_age: sign in afresh. The forced sign-in
    drops both from the request it returns to, so it is asked only once."""
    if "login" in prompts:
        return True
    max_age = data.get("max_age")
    if max_age is None:
        return False
    # A number of seconds (checked in authorize); far more than any session lasts is "never".
    seconds = min(int(max_age), 10**9)
    return utcnow() - session_row.created_at > timedelta(seconds=seconds)


def _return_path(*, drop=SETTLED) -> str:
    pairs = [(key, value) for key, value in request.args.items(multi=True) if key not in drop]
    if drop is SETTLED:
        pairs = _without_prompt_login(pairs)
    return f"{AUTHORIZE_PATH}?{urlencode(pairs)}"


def _without_prompt_login(pairs):
    """The forced sign-in has dealt with prompt=login (asked again, it would never end); the
    other values stay, so that `login consent` still asks for consent afterwards (OpenID
    Connect Core 3.1.2.1)."""
    kept = []
    for key, value in pairs:
        if key == "prompt":
            value = " ".join(item for item in value.split() if item != "login")
            if not value:
                continue
        kept.append((key, value))
    return kept


def _send_to_sign_in(application):
    # prompt=login / max_age keep the current session: this is a GET any site can send, so
    # it must not sign anyone out. The fresh sign-in replaces the session when it succeeds.
    provider = application.provider
    query = {"next": _return_path()}
    hint = request.args.get("login_hint", "")
    if hint and len(hint) <= 254:
        query["login_hint"] = hint  # the sign-in page starts with the name filled in
    if provider.authentication_flow_id is not None:
        flow = db.session.get(Flow, provider.authentication_flow_id)
        target = f"/flow/{flow.slug}/?{urlencode(query)}"
    else:
        target = f"/login?{urlencode(query)}"
    db.session.commit()
    return redirect(target, code=302)


def _authorization_flow_state(client, user, scopes, prompts) -> str:
    """DONE: the provider's authorization flow ran to its end for this very request, or it
    has nothing to run (and no gate); with prompt=none, a remembered consent is enough.
    DECLINED: it ran to its end and the user declined at consent. PENDING: it must run."""
    application = client.application
    flow = load_running_flow(client.authorization_flow_slug)
    if flow is None:
        abort(503, description=N_("This application's authorization flow is missing."))
    g.oauth2_authorization_flow = flow
    # Nothing to ask and no gate but who may run it: a signed-in user may, unless only
    # administrators may (then the flow itself says no).
    nothing_to_run = not flow.bindings and not flow.policy_bindings
    if nothing_to_run and (flow.authentication != "require_superuser" or user.is_superuser):
        return DONE
    handle = request.args.get(HANDLE)
    if handle:
        spent = db.session.execute(
            update(AuthorizationRequest)
            .where(
                AuthorizationRequest.handle == handle,
                AuthorizationRequest.user_id == user.id,
                AuthorizationRequest.application_id == application.id,
                AuthorizationRequest.flow_completed_at.is_not(None),
                AuthorizationRequest.used_at.is_(None),
                AuthorizationRequest.expires_at > utcnow(),
                AuthorizationRequest.parameters["query"].as_string() == _query_digest(),
            )
            .values(used_at=utcnow())
            .returning(AuthorizationRequest.parameters)
        ).first()
        if spent is not None:
            return DECLINED if (spent.parameters or {}).get(DECLINED) else DONE
    if "none" in prompts and not flow.policy_bindings:
        return DONE if _has_remembered_consent(application, user, scopes) else PENDING
    return PENDING


def _cannot_ask_silently(grant):
    """prompt=none, and the authorization flow would show something: OpenID Connect Core
    3.1.2.6's consent_required when that is only consent, else interaction_required."""
    if _only_consent_to_ask():
        return _error_redirect(grant, "consent_required", "The user must consent first.")
    return _error_redirect(grant, "interaction_required", "The authorization flow needs the user.")


def _only_consent_to_ask() -> bool:
    flow = g.oauth2_authorization_flow
    return not flow.policy_bindings and all(
        binding.stage.type == "consent" for binding in flow.bindings
    )


def _has_remembered_consent(application, user, scopes) -> bool:
    """prompt=none: the flow would show nothing. Only consent stages that would each pass by
    themselves (remembered, current terms, the scopes covered, not "ask always") qualify; any
    other stage needs the user."""
    for binding in g.oauth2_authorization_flow.bindings:
        stage = binding.stage
        if stage.type != "consent":
            return False
        try:
            options = parse_options(ConsentOptions, stage.options)
        except OptionsError:
            return False
        if not application_consent_covers(user, application.id, options, scopes):
            return False
    return True


def _query_digest() -> str:
    return hashlib.sha256(_return_path(drop=(HANDLE,)).encode()).hexdigest()


def _run_authorization_flow(application, user, scopes, prompts):
    handle = secrets.token_urlsafe(24)
    db.session.add(
        AuthorizationRequest(
            handle=handle,
            application_id=application.id,
            user_id=user.id,
            parameters={"query": _query_digest()},
            expires_at=utcnow() + REQUEST_LIFETIME,
        )
    )
    next_url = f"{_return_path(drop=(HANDLE,))}&{urlencode({HANDLE: handle})}"
    context = {
        "application": {
            "id": application.id,
            "slug": application.slug,
            "name": application.name,
            "scopes": scopes,
            "permissions": permissions_for(scopes, g.oauth2_client.scope_mappings),
            "request": handle,
            "ask_again": "consent" in prompts,
        }
    }
    target = seed_flow(g.oauth2_authorization_flow.slug, context, next_url)
    db.session.commit()
    return redirect(target, code=302)


def _error_redirect(grant, error: str, description: str):
    metrics.OAUTH2_AUTHORIZATIONS.labels(error).inc()
    client = grant.request.client
    params = [("error", error), ("error_description", description)]
    if grant.request.payload.state:
        params.append(("state", grant.request.payload.state))
    params.append(("iss", client.issuer))
    db.session.commit()
    payload = grant.request.payload
    mode = response_mode_of(payload.data, payload.redirect_uri)
    return answer_client(payload.redirect_uri, params, mode, client.application)


def _denied(grant, application):
    """A clear page at Gatehouse; the application hears access_denied only when the visitor
    chooses to go back (the redirect URI is the client's own, checked)."""
    client = grant.request.client
    params = [("error", "access_denied")]
    if grant.request.payload.state:
        params.append(("state", grant.request.payload.state))
    params.append(("iss", client.issuer))
    payload = grant.request.payload
    mode = response_mode_of(payload.data, payload.redirect_uri)
    if mode == FORM_POST:
        back = {"action": payload.redirect_uri, "params": params}
    else:
        back = {"url": add_params_to_uri(payload.redirect_uri, params, fragment=mode == FRAGMENT)}
    page = render_template("providers/oauth2/denied.html", application=application, back=back)
    response = make_response(page, 403)
    if mode == FORM_POST:
        response.headers["Content-Security-Policy"] = FORM_POST_POLICY
    return response


def _missing_response_type(error: OAuth2Error) -> OAuth2Error:
    """RFC 6749 4.1.2.1: a missing parameter is invalid_request; authlib answers a missing
    response_type as one it does not support."""
    if error.error == "unsupported_response_type" and not request.args.get("response_type"):
        error.error = "invalid_request"
        error.description = "The request is missing the response_type parameter."
    return error


def _refused(error: OAuth2Error):
    """A request Gatehouse cannot answer to the client. Without a checked redirect URI the
    answer is a page here, never a redirect."""
    if error.redirect_uri:
        client = getattr(g, "oauth2_client", None)
        params = [("error", error.error)]
        if error.description:
            params.append(("error_description", error.description))
        if error.state:
            params.append(("state", error.state))
        if client is None:
            return redirect(add_params_to_uri(error.redirect_uri, params), code=302)
        params.append(("iss", client.issuer))
        mode = response_mode_of(request.args, error.redirect_uri)
        return answer_client(error.redirect_uri, params, mode, client.application)
    page = render_template(
        "providers/oauth2/error.html",
        error=error.error,
        description=description_in_words(error.description),
    )
    return make_response(page, 400)


# -- token, userinfo, introspection, revocation -------------------------------------------------


def token():
    refusal = _client_authentication_refusal() or _repeated_parameter() or _missing_grant_type()
    if refusal is not None:
        return _open_to_scripts(refusal)
    response = server.create_token_response()
    db.session.commit()
    return _open_to_scripts(response)


def _client_authentication_refusal():
    """What authlib would get wrong before it authenticates the client: a Basic header whose
    bytes are no UTF-8 (it fails on them), and a client that authenticates in two ways at
    once (RFC 6749 2.3; authlib takes the first that passes, so a wrong secret would go
    unnoticed beside a right one)."""
    try:
        basic_id, _secret = extract_basic_authorization(request.headers)
    except UnicodeDecodeError:
        error = InvalidClientError(description="The Basic credentials cannot be read.")
        error.status_code = 401
        return server.handle_response(*error())
    posted_id = request.form.get("client_id")
    if basic_id and ("client_secret" in request.form or posted_id not in (None, basic_id)):
        error = InvalidRequestError(description="Authenticate the client in one way only.")
        return server.handle_response(*error())
    return None


def _repeated_parameter():
    """RFC 6749 3.1 and 3.2: a parameter is sent at most once. authlib reads the first of
    repeated ones, so `code=A&code=B` would pass as A: the sender and Gatehouse could
    each believe a different request was made. Refused as invalid_request."""
    for name in request.form:
        if len(request.form.getlist(name)) > 1:
            error = InvalidRequestError(description=f"Multiple '{name[:64]}' in request.")
            return server.handle_response(*error())
    return None


def _missing_grant_type():
    """RFC 6749 5.2: a missing parameter is an invalid_request (authlib says
    unsupported_grant_type, which is for a grant type it does not offer)."""
    if request.form.get("grant_type"):
        return None
    error = InvalidRequestError(description="The request names no grant_type.")
    return server.handle_response(*error())


def userinfo():
    header, body = _bearer_token_from_header(), _bearer_token_from_body()
    if header and body:
        # RFC 6750 2: one method per request.
        response = jsonify(error="invalid_request", error_description="Send the token once.")
        response.status_code = 400
        response.headers["WWW-Authenticate"] = 'Bearer error="invalid_request"'
        return _open_to_scripts(response)
    value = header or body
    if not value:
        # RFC 6750 3.1: a request with no token at all gets no error code.
        response = jsonify(error_description="Send a bearer token.")
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        return _open_to_scripts(response)
    state = tokens.find(value, "access_token")
    if state is None or not state.is_live() or state.user is None:
        return _invalid_token()
    registered = clients.registry().by_id.get(state.row.application_id)
    application = registered.application if registered else None
    if application is None or not may_use(application, state.user).allowed:
        # The user's access was removed (a binding, a group): the token no longer counts.
        return _invalid_token()
    scopes = state.row.scope.split()
    if "openid" not in scopes:
        response = jsonify(error="insufficient_scope")
        response.status_code = 403
        response.headers["WWW-Authenticate"] = 'Bearer error="insufficient_scope", scope="openid"'
        return _open_to_scripts(response)
    claims = _userinfo_claims(application, state.user, scopes)
    if claims.failures:
        db.session.commit()  # the failures' events
    return _open_to_scripts(jsonify(claims.values))


def _invalid_token():
    response = jsonify(error="invalid_token", error_description="The token is not valid.")
    response.status_code = 401
    response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return _open_to_scripts(response)


def _userinfo_claims(application, user, scopes):
    """The built-in scopes need nothing but the user; an admin-defined one needs the
    application's scope mappings (loaded only then)."""
    mappings = []
    if set(scopes) - set(SCOPES):
        try:
            names = parse_options(OAuth2Options, application.provider.options).scope_mappings
        except OptionsError:
            names = ()
        mappings = load_scope_mappings(names)
    return claims_for(application, user, scopes, mappings)


def _bearer_token_from_header() -> str | None:
    """RFC 6750 2.1: the Authorization header (the query string is never read)."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def _bearer_token_from_body() -> str | None:
    """RFC 6750 2.2: a form-encoded POST body."""
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        return request.form.get("access_token") or None
    return None


def introspect():
    refusal = _client_authentication_refusal() or _repeated_parameter()
    if refusal is not None:
        return refusal
    response = server.create_endpoint_response("introspection")
    db.session.commit()
    return response


def revoke():
    refusal = _client_authentication_refusal() or _repeated_parameter()
    if refusal is not None:
        return _open_to_scripts(refusal)
    response = server.create_endpoint_response("revocation")
    db.session.commit()
    return _open_to_scripts(response)


# -- per application: discovery, keys, sign-out -------------------------------------------------


def _oauth2_application(slug: str):
    registered = clients.registry().by_slug.get(slug)
    if registered is None:
        abort(404, description="There is no such application using OpenID Connect.")
    client = client_of(registered)
    if client is None:
        abort(404, description="This application's OpenID Connect settings are broken.")
    return client


def discovery(slug: str):
    client = _oauth2_application(slug)
    response = _open_to_scripts(jsonify(discovery_document(client)))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def jwks(slug: str):
    _oauth2_application(slug)  # 404 for an unknown one
    # Made when the application was saved (ready_to_serve): a GET never writes them.
    response = _open_to_scripts(jsonify(keys.public_key_set()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def end_session_route(slug: str):
    return end_session(_oauth2_application(slug))


def end_session_done_route(slug: str):
    return end_session_done(_oauth2_application(slug))
