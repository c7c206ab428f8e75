"""Security headers, the session cookie's flags, and who the current user is."""

from flask import current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from idp.core.extensions import login_manager
from idp.core.http import to_sign_in
from idp.identity.cookie_codec import CookieJSONSerializer
from idp.identity.sessions import load_current_session

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
# With IDP_COOKIE_DOMAIN it covers every host under that domain (forward auth); __Host- forbids
# a Domain attribute, so over HTTPS it takes the __Secure- prefix instead.
DOMAIN_SECURE_COOKIE_NAME = "__Secure-gatehouse_session"


def cookie_domain_for_request() -> str | None:
    """IDP_COOKIE_DOMAIN when this request's host lies under it, else None (host-only): a
    browser drops a cookie for a domain the page is not on, which would make signing in
    impossible at any other address of this server."""
    domain = current_app.config.get("COOKIE_DOMAIN") or ""
    if not domain:
        return None
    host = (request.host or "").rsplit(":", 1)[0].lower()
    if host == domain or host.endswith("." + domain):
        return domain
    return None


def session_cookie_name() -> str:
    if not request.is_secure:
        return COOKIE_NAME
    return DOMAIN_SECURE_COOKIE_NAME if cookie_domain_for_request() else SECURE_COOKIE_NAME


SIGNER_EXTENSION = "gatehouse.session_signer"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie, made Secure (and __Host-) whenever the request came over HTTPS,
    and shared with the hosts under IDP_COOKIE_DOMAIN when that is set."""

    serializer = CookieJSONSerializer()

    def get_signing_serializer(self, app):
        """Flask makes a new signer for every cookie read and written; it holds nothing of
        the request, so one per secret key serves every request."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        cached = app.extensions.get(SIGNER_EXTENSION)
        if cached is None or cached[0] != keys:
            cached = (keys, super().get_signing_serializer(app))
            app.extensions[SIGNER_EXTENSION] = cached
        return cached[1]

    def get_cookie_name(self, app) -> str:
        return session_cookie_name()

    def get_cookie_secure(self, app) -> bool:
        return request.is_secure

    def get_cookie_domain(self, app):
        return cookie_domain_for_request()

    def open_session(self, app, request):
        session = super().open_session(app, request)
        legacy = self._legacy_cookie_name()
        if session is not None and not session and legacy and legacy in request.cookies:
            # A host-only cookie from before IDP_COOKIE_DOMAIN was set: read it once, so
            # nobody is signed out by the change; save_session moves it to the domain cookie.
            value = request.cookies[legacy]
            serializer = self.get_signing_serializer(app)
            try:
                data = serializer.loads(
                    value, max_age=int(app.permanent_session_lifetime.total_seconds())
                )
            except BadSignature:
                return session
            session = self.session_class(data)
            session.modified = True
        return session

    def save_session(self, app, session, response) -> None:
        if request.endpoint in ANONYMOUS_ENDPOINTS:
            # Answers that caches keep (static files for a year): never a Set-Cookie, and no
            # Vary: Cookie, which would make a browser fetch them again at every new cookie.
            return
        super().save_session(app, session, response)
        legacy = self._legacy_cookie_name()
        if legacy and legacy in request.cookies:
            response.delete_cookie(legacy, path="/", secure=request.is_secure, httponly=True)

    @staticmethod
    def _legacy_cookie_name() -> str | None:
        if request.is_secure and cookie_domain_for_request():
            return SECURE_COOKIE_NAME
        return None


# Answers that never depend on who asks: no session is looked up for them.
ANONYMOUS_ENDPOINTS = frozenset(
    {
        "static",
        "ops.healthz",
        "ops.readyz",
        "metrics.metrics",
        "brand.accent_stylesheet",
        "brand.file",
    }
)


def reads_session_itself(view):
    """Marks a view that finds the session its own way (forward auth reads the cookie the
    browser sent to the protected app), so it is not looked up twice."""
    view.reads_session_itself = True
    return view


def _load_session_first():
    """Look the session up before the view runs: recording its use may commit, and a commit
    must not take half of the view's work with it."""
    if request.endpoint in ANONYMOUS_ENDPOINTS:
        return
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "reads_session_itself", False):
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
    login_manager.unauthorized_handler(to_sign_in)
