"""The OpenID Connect endpoints, in authentik's URL layout: per application
/application/o/<slug>/ (issuer, discovery, JWKS, end-session) and shared
/application/o/authorize/, token/, userinfo/, introspect/, revoke/. Their views
(endpoints.py) are imported on the first request to one of them (idp/core/lazy_views.py)."""

from flask import Blueprint
from sqlalchemy import select

from idp.core.extensions import csrf
from idp.core.lazy_views import LazyView
from idp.identity import sessions
from idp.models import Provider
from idp.providers.oauth2 import backchannel

bp = Blueprint("provider_oauth2", __name__, template_folder="templates")

AUTHORIZE_PATH = "/application/o/authorize/"
PER_APPLICATION = "/application/o/<slug>/"

# (URL, view in endpoints.py, methods, whether another site's form or a client posts to it)
ENDPOINTS = (
    (AUTHORIZE_PATH, "authorize", ["GET"], False),
    (AUTHORIZE_PATH, "authorize_by_post", ["POST"], True),
    ("/application/o/token/", "token", ["POST"], True),
    ("/application/o/userinfo/", "userinfo", ["GET", "POST"], True),
    ("/application/o/introspect/", "introspect", ["POST"], True),
    ("/application/o/revoke/", "revoke", ["POST"], True),
    (PER_APPLICATION + ".well-known/openid-configuration", "discovery", ["GET"], False),
    (PER_APPLICATION + "jwks/", "jwks", ["GET"], False),
    (PER_APPLICATION + "end-session/", "end_session_route", ["GET", "POST"], True),
    (PER_APPLICATION + "end-session/done", "end_session_done_route", ["GET"], False),
)


def _in_use(session) -> bool:
    """Whether an application signs in over OpenID Connect (the master then loads the views)."""
    return session.scalar(select(Provider.id).where(Provider.type == "oauth2").limit(1)) is not None


for url, name, methods, exempt in ENDPOINTS:
    view = LazyView(f"idp.providers.oauth2.endpoints.{name}", wanted=_in_use)
    bp.add_url_rule(url, endpoint=name, view_func=csrf.exempt(view) if exempt else view,
                    methods=methods)  # fmt: skip


@bp.record_once
def _prepare(state):
    sessions.on_sessions_ended(state.app, backchannel.sessions_ended)
    state.app.after_request(backchannel.send_after_answer)


@bp.after_request
def _no_store(response):
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Pragma"] = "no-cache"
    return response
