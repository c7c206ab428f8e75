"""Forward auth, with Authelia's endpoint shapes so its documented proxy snippets work.

`/api/authz/auth-request` answers nginx's auth_request (401 with a Location to sign in);
`/api/authz/forward-auth` answers Caddy, Traefik and HAProxy (302 to sign in). Both answer
200 with identity headers, or 403. They sit on the hot path of every request to every
protected app: no template, no write but the session's once-a-minute last-seen, a fixed
number of queries.

`/forward-auth/start?rd=URL` is where a visitor is sent to sign in; it returns them to the app
and notices when the app sends them straight back (the cookie does not reach it), to explain
why instead of looping.
"""

import hashlib
import logging
import time
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from idp.applications.access import RequestFacts
from idp.core import network
from idp.core.http import leave_site
from idp.identity.security import reads_session_itself
from idp.providers.proxy import admin, identity
from idp.providers.proxy.decision import decide
from idp.providers.proxy.targets import (
    Target,
    application_for,
    is_cookie_domain_host,
    parse_target,
    proxy_applications,
    target_from_auth_request,
    target_from_forward_auth,
)

bp = Blueprint("provider_proxy", __name__, template_folder="templates")
bp.add_url_rule("/admin/applications/<slug>/forward-auth-test", "test_request", admin.test_request)
log = logging.getLogger("idp.forward_auth")

# Every answer depends on the cookie: no cache between the proxy and Gatehouse keeps one.
NO_STORE = {"Cache-Control": "no-store"}
BOUNCE_KEY = "forward_auth_bounce"
# Sent back to the start page for the same address this soon after being sent to it: the
# app did not see the session.
BOUNCE_SECONDS = 30


@bp.get("/api/authz/auth-request")
@reads_session_itself
def auth_request():
    # nginx shows its own page for a 403 (the snippet sends it to /forward-auth/denied).
    return _answer(target_from_auth_request, unauthenticated_status=401, page_on_403=False)


@bp.get("/api/authz/forward-auth")
@reads_session_itself
def forward_auth():
    # Caddy and Traefik hand a refusal to the browser as it is: make it a page that says why.
    return _answer(target_from_forward_auth, unauthenticated_status=302, page_on_403=True)


def _answer(read_target, unauthenticated_status: int, page_on_403: bool) -> Response:
    if not network.is_from_trusted_proxy():
        log.warning(
            "forward auth asked by %s, which is not in IDP_TRUSTED_PROXIES", request.remote_addr
        )
        return _plain(403, "Forwarded headers are believed only from IDP_TRUSTED_PROXIES.")
    target = read_target(request.headers)
    if target is None:
        # Any visitor can ask for /%ff. A proxy takes an answer other than 200, 401 (or 302)
        # and 403 for a failure of its own (nginx serves a 500): the address is refused.
        return _plain(403, "The proxy did not say which address was asked for.")
    user_session = identity.session_for_target(target)
    user = user_session.user if user_session is not None else None
    verdict = decide(target, user, _facts(target))
    if verdict.status == 401:
        return _to_sign_in(target, unauthenticated_status)
    if verdict.status == 403:
        if page_on_403 and verdict.application is not None:
            page = render_template(
                "providers/proxy/denied.html",
                application=verdict.application.name,
                who=user.username,
            )
            return Response(page, status=403, mimetype="text/html", headers=NO_STORE)
        return _plain(403, verdict.summary)
    response = Response(status=200)
    for name, value in verdict.headers:
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    return response


def _facts(target: Target) -> RequestFacts:
    return RequestFacts(
        ip=network.client_ip(),
        user_agent=network.user_agent(),
        path=target.path,
        args={},
    )


def _to_sign_in(target: Target, status: int) -> Response:
    location = _public_url("/forward-auth/start") + "?" + urlencode({"rd": target.url})
    response = _plain(status, "Sign in at Gatehouse first.")
    response.headers["Location"] = location
    return response


def _plain(status: int, text: str) -> Response:
    return Response(text + "\n", status=status, mimetype="text/plain", headers=NO_STORE)


def _public_url(path: str) -> str:
    base = current_app.config.get("BASE_URL") or request.host_url.rstrip("/")
    return base + path


def _return_address() -> tuple[Target | None, str]:
    """The `rd` address and its application's name, if it belongs to an application Gatehouse
    protects (or to the cookie domain); a foreign address is never followed."""
    target = parse_target(request.args.get("rd"), "GET")
    if target is None:
        return None, ""
    protected = application_for(target, proxy_applications())
    if protected is None and not is_cookie_domain_host(target.host):
        return None, ""
    return target, protected.application.name if protected else ""


@bp.get("/forward-auth/start")
def start():
    target, name = _return_address()
    if target is None:
        return render_template(
            "providers/proxy/refused.html",
            title="Not an address Gatehouse protects",
            message="This link does not lead to an application protected by Gatehouse, so "
            "Gatehouse will not send you there.",
        ), 400
    if not current_user.is_authenticated:
        here = "/forward-auth/start?" + urlencode({"rd": target.url})
        return redirect(url_for("account.login", next=here), 303)
    bounce = session.get(BOUNCE_KEY)
    now = int(time.time())
    if (
        isinstance(bounce, dict)
        and bounce.get("url") == _fingerprint(target.url)
        and now - int(bounce.get("at", 0)) < BOUNCE_SECONDS
    ):
        session.pop(BOUNCE_KEY, None)
        return render_template(
            "providers/proxy/loop.html", target=target, reasons=identity.why_not_seen(target)
        ), 409
    session[BOUNCE_KEY] = {"url": _fingerprint(target.url), "at": now}
    return leave_site(target.url, name)


def _fingerprint(url: str) -> str:
    # The cookie is readable: it keeps which address bounced, not the address itself.
    return hashlib.sha256(url.encode()).hexdigest()[:32]


@bp.get("/forward-auth/denied")
def denied():
    """Where the nginx snippet sends a 403, so the visitor reads why."""
    _target, name = _return_address()
    who = current_user.username if current_user.is_authenticated else None
    return render_template("providers/proxy/denied.html", application=name, who=who), 403
