"""The OpenID Connect endpoints, in authentik's URL layout: per application
/application/o/<slug>/ (issuer, discovery, JWKS, end-session) and shared
/application/o/authorize/, token/, userinfo/, introspect/, revoke/. Their views
(endpoints.py) are imported on the first request to one of them (idp/core/lazy_views.py)."""

from flask import Blueprint, request
from sqlalchemy import select

from idp.core.http import answer_errors_in_json
from idp.core.lazy_views import add_lazy_rules
from idp.identity import sessions
from idp.models import Provider
from idp.providers.oauth2 import backchannel

bp = Blueprint("provider_oauth2", __name__, template_folder="templates")

AUTHORIZE_PATH = "/application/o/authorize/"
PER_APPLICATION = "/application/o/<slug>/"

# (URL, view in endpoints.py, methods)
ENDPOINTS = (
    (AUTHORIZE_PATH, "authorize", ["GET"]),
    (AUTHORIZE_PATH, "authorize_by_post", ["POST"]),
    ("/application/o/token/", "token", ["POST"]),
    ("/application/o/userinfo/", "userinfo", ["GET", "POST"]),
    ("/application/o/introspect/", "introspect", ["POST"]),
    ("/application/o/revoke/", "revoke", ["POST"]),
    (PER_APPLICATION + ".well-known/openid-configuration", "discovery", ["GET"]),
    (PER_APPLICATION + "jwks/", "jwks", ["GET"]),
    (PER_APPLICATION + "end-session/", "end_session_route", ["GET", "POST"]),
    (PER_APPLICATION + "end-session/done", "end_session_done_route", ["GET"]),
)
# Clients call these, not browsers: every error there is JSON (RFC 6749 5.2).
CLIENTS_ONLY = ("token", "userinfo", "introspect", "revoke", "discovery", "jwks")
# Single-page apps call these with fetch from their own origin (no cookie is used).
CALLED_BY_SCRIPTS = ("token", "userinfo", "revoke", "discovery", "jwks")
OPEN_TO_SCRIPTS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type",
}
_PREFLIGHTED = frozenset(f"{bp.name}.{view}" for view in CALLED_BY_SCRIPTS)
# Another site's form or a client posts to these: they carry no CSRF token of ours.
POSTED_FROM_ELSEWHERE = frozenset(
    {"authorize_by_post", "token", "userinfo", "introspect", "revoke", "end_session_route"}
)


def _in_use(session) -> bool:
    """Whether an application signs in over OpenID Connect (the master then loads the views)."""
    return session.scalar(select(Provider.id).where(Provider.type == "oauth2").limit(1)) is not None


add_lazy_rules(
    bp,
    "idp.providers.oauth2.endpoints",
    ENDPOINTS,
    wanted=_in_use,
    csrf_exempt=POSTED_FROM_ELSEWHERE,
)


@bp.record_once
def _prepare(state):
    answer_errors_in_json(state.app, {f"{bp.name}.{view}" for view in CLIENTS_ONLY})
    sessions.on_sessions_ended(state.app, backchannel.sessions_ended)
    state.app.after_request(backchannel.send_after_answer)


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Pragma"] = "no-cache"
    return response


@bp.after_request
def _answer_preflight(response):
    """A browser asks first (OPTIONS, a CORS preflight) before a call that is not a simple
    request, such as userinfo with `Authorization: Bearer`; it reads the real answer only
    when this one allows the call. Flask answers OPTIONS itself, with the methods in Allow."""
    if request.method == "OPTIONS" and request.endpoint in _PREFLIGHTED:
        response.headers.update(OPEN_TO_SCRIPTS)
        response.headers["Access-Control-Allow-Methods"] = response.headers.get("Allow", "")
        response.headers["Access-Control-Max-Age"] = "600"
    return response
