"""What the reverse proxy says about the request it is holding, and which application that
request is for. Forwarded headers are believed only from IDP_TRUSTED_PROXIES."""

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from idp.extensions import db
from idp.models import Application, PolicyBinding, Provider
from idp.options import OptionsError, parse_options
from idp.providers.proxy.options import ProxyOptions

MAX_URL_LENGTH = 8192
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Target:
    """The original request: its full URL and method."""

    url: str
    method: str
    scheme: str
    host: str  # lower case, no port
    netloc: str  # lower case, port kept
    path: str


@dataclass(frozen=True)
class ProtectedApp:
    application: Application
    options: ProxyOptions


def parse_target(url: str | None, method: str | None) -> Target | None:
    """None when the URL is missing or not an absolute http(s) URL."""
    if not url or len(url) > MAX_URL_LENGTH or any(ord(c) < 32 for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018  (raises on a bad port)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not host or parts.username is not None:
        return None
    method = (method or "GET").upper()
    return Target(
        url=url,
        method=method if method in METHODS else "GET",
        scheme=parts.scheme,
        host=host.lower(),
        netloc=parts.netloc.lower(),
        path=parts.path or "/",
    )


def target_from_auth_request(headers) -> Target | None:
    """nginx auth_request: X-Original-URL and X-Original-Method."""
    return parse_target(headers.get("X-Original-URL"), headers.get("X-Original-Method"))


def target_from_forward_auth(headers) -> Target | None:
    """Caddy, Traefik, HAProxy: X-Forwarded-Proto, -Host, -Uri and -Method."""
    scheme = (headers.get("X-Forwarded-Proto") or "").split(",")[0].strip().lower()
    host = (headers.get("X-Forwarded-Host") or "").split(",")[0].strip()
    uri = headers.get("X-Forwarded-Uri") or "/"
    if scheme not in ("http", "https") or not host or not uri.startswith("/"):
        return None
    if "/" in host or "@" in host or "\\" in host:
        return None
    return parse_target(f"{scheme}://{host}{uri}", headers.get("X-Forwarded-Method"))


def proxy_applications() -> list[ProtectedApp]:
    """Every application with a proxy provider, with its bindings: two queries whatever
    their number."""
    rows = db.session.scalars(
        select(Application)
        .join(Application.provider)
        .where(Provider.type == "proxy")
        .options(
            joinedload(Application.provider),
            selectinload(Application.policy_bindings).options(
                joinedload(PolicyBinding.policy),
                joinedload(PolicyBinding.group),
                joinedload(PolicyBinding.user),
            ),
        )
    ).unique()
    protected = []
    for application in rows:
        try:
            options = parse_options(ProxyOptions, application.provider.options)
        except OptionsError:
            continue  # an unreadable provider matches no request, so it admits nobody
        protected.append(ProtectedApp(application, options))
    return protected


def application_for(target: Target, protected: list[ProtectedApp]) -> ProtectedApp | None:
    """The single-host application with the longest matching path prefix, else the
    domain-wide one with the longest matching domain. Ports and schemes do not take part:
    one host name is one site to the proxy."""
    best, best_length = None, -1
    for candidate in protected:
        options = candidate.options
        if options.mode != "single" or options.host != target.host:
            continue
        prefix = options.prefix
        if prefix and not (target.path == prefix or target.path.startswith(prefix + "/")):
            continue
        if len(prefix) > best_length:
            best, best_length = candidate, len(prefix)
    if best is not None:
        return best
    for candidate in protected:
        domain = candidate.options.host
        if candidate.options.mode != "domain" or len(domain) <= best_length:
            continue
        if target.host == domain or target.host.endswith("." + domain):
            best, best_length = candidate, len(domain)
    return best


def is_cookie_domain_host(host: str) -> bool:
    domain = current_app.config.get("COOKIE_DOMAIN") or ""
    return bool(domain) and (host == domain or host.endswith("." + domain))
