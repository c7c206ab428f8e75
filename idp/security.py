"""Security headers, the session cookie's flags, and who the current user is."""

from flask import g, request
from flask.sessions import SecureCookieSessionInterface

from idp.extensions import login_manager
from idp.sessions import load_current_session

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

COOKIE_NAME = "gatehouse_session"
# Over HTTPS the cookie takes the __Host- prefix: Secure, no Domain, Path=/, by browser rule.
SECURE_COOKIE_NAME = "__Host-gatehouse_session"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, made Secure (and __Host-) whenever the request came over HTTPS."""

    def get_cookie_name(self, app) -> str:
        return SECURE_COOKIE_NAME if request.is_secure else COOKIE_NAME

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure

    def get_cookie_domain(self, app):
        return None


# Answers that never depend on who asks: no session is looked up for them.
ANONYMOUS_ENDPOINTS = frozenset({"static", "ops.healthz", "ops.readyz", "metrics.metrics"})


def _load_session_first():
    """Look the session up before the view runs: recording its use may commit, and a commit
    must not take half of the view's work with it."""
    if request.endpoint not in ANONYMOUS_ENDPOINTS:
        load_current_session()


def _add_security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if g.get("user_session") is not None and request.endpoint != "static":
        # A page for a signed-in user (or the answer that signed one in or out) is for this
        # browser only: no shared cache or back button may keep it.
        response.headers["Cache-Control"] = "no-store"
    return response


@login_manager.request_loader
def _user_from_session(_request):
    row = load_current_session()
    return row.user if row is not None else None


def init_app(app) -> None:
    app.session_interface = SessionInterface()
    app.before_request(_load_session_first)
    app.after_request(_add_security_headers)
    login_manager.session_protection = None  # our sessions live in the database instead
    login_manager.login_view = "account.login"
