"""What the reverse proxy says about the request it is holding, and which application that
request is for. Forwarded headers are believed only from IDP_TRUSTED_PROXIES."""

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from flask import current_app

from idp.applications.loading import applications_of_type
from idp.core.extensions import db
from idp.core.options import OptionsError, parse_options
from idp.flows.revision import kept_apart
from idp.models import Application
from idp.providers.proxy.options import ProxyOptions

MAX_URL_LENGTH = 8192
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


# A host name as browsers and proxies agree on it: ASCII letters, digits, dots and hyphens
# (IDNA names arrive as punycode). Anything else (a backslash, %, a space) may be read as
# another host by a browser than by Python, so it is refused.
HOST_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.?\Z")
# Characters a proxy passes on in a path that the app may later read another way.
UNDECIDED_PATH = re.compile(r"[\\;]|%2[eEfF]|%5[cC]|%3[bB]|%25")


@dataclass(frozen=True)
class Target:
    """The original request: its URL, rebuilt from its checked parts, and its method."""

    url: str
    method: str
    scheme: str
    host: str  # lower case, no port
    netloc: str  # lower case, port kept
    path: str  # as the app will see it: decoded, dot segments resolved, no empty segments


@dataclass(frozen=True)
class ProtectedApp:
    application: Application
    options: ProxyOptions


def parse_target(url: str | None, method: str | None) -> Target | None:
    """None when the URL is missing or not a plain absolute http(s) URL."""
    if not url or len(url) > MAX_URL_LENGTH or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username is not None:
        return None
    if not HOST_NAME.match(host) or len(host) > 253:
        return None
    path = canonical_path(parts.path or "/")
    if path is None:
        return None
    netloc = host if port is None else f"{host}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    method = (method or "GET").upper()
    return Target(
        url=f"{parts.scheme}://{netloc}{parts.path or '/'}{query}",
        method=method if method in METHODS else "GET",
        scheme=parts.scheme,
        host=host.rstrip("."),
        netloc=netloc,
        path=path,
    )


def canonical_path(raw: str) -> str | None:
    """The path the app behind the proxy will act on, so that a path prefix or a policy on
    `request.path` cannot be passed by another spelling of it (/%61dmin, //admin, /./admin,
    /x/../admin). Spellings that servers read in different ways (encoded slashes or dots,
    backslashes, ;parameters, double encoding) are refused: None."""
    if UNDECIDED_PATH.search(raw):
        return None
    try:
        decoded = unquote(raw, errors="strict") if "%" in raw else raw
    except UnicodeDecodeError:
        return None  # bytes that are no UTF-8 (/%ff): no server reads them as we would
    if UNDECIDED_PATH.search(decoded) or any(ord(c) < 32 for c in decoded):
        return None
    segments = []
    for segment in decoded.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    trailing = "/" if decoded.endswith("/") and segments else ""
    return "/" + "/".join(segments) + trailing


def target_from_auth_request(headers) -> Target | None:
    """nginx auth_request: X-Original-URL and X-Original-Method."""
    return parse_target(headers.get("X-Original-URL"), headers.get("X-Original-Method"))


def target_from_forward_auth(headers) -> Target | None:
    """Caddy, Traefik, HAProxy: X-Forwarded-Proto, -Host, -Uri and -Method. Each must hold
    one value: a list means the proxy passed on what the client sent, which is not believed."""
    scheme = (headers.get("X-Forwarded-Proto") or "").strip().lower()
    host = (headers.get("X-Forwarded-Host") or "").strip()
    uri = headers.get("X-Forwarded-Uri") or "/"
    if "," in scheme or "," in host or len(headers.getlist("X-Forwarded-Host")) > 1:
        return None
    if scheme not in ("http", "https") or not host or not uri.startswith("/"):
        return None
    if "/" in host or "@" in host or "\\" in host:
        return None
    return parse_target(f"{scheme}://{host}{uri}", headers.get("X-Forwarded-Method"))


PROTECTED_KEY = "gatehouse.proxy_applications"


def proxy_applications() -> list[ProtectedApp]:
    """Every application with a proxy provider, with its bindings. Kept in this worker while
    the flows revision is current, as flows are: a request that read it with its signed-in
    session reads nothing more, one without a session reads the revision alone. Loaded
    apart, the objects are complete, belong to no session and are only read, by every
    thread of the worker. Otherwise two queries, whatever their number."""
    return kept_apart(db.session, PROTECTED_KEY, _load)


def _load(session) -> list[ProtectedApp]:
    protected = []
    for application in applications_of_type(session, "proxy"):
        try:
            options = parse_options(ProxyOptions, application.provider.options)
        except OptionsError:
            continue  # an unreadable provider matches no request, so it admits nobody
        protected.append(ProtectedApp(application, options))
    return protected


def application_for(target: Target, protected: list[ProtectedApp]) -> ProtectedApp | None:
    """The one application the target belongs to; None when none claims it, or when two
    claim it alike (see claimants_of)."""
    claimants = claimants_of(target, protected)
    return claimants[0] if len(claimants) == 1 else None


def claimants_of(target: Target, protected: list[ProtectedApp]) -> list[ProtectedApp]:
    """The single-host applications with the longest matching path prefix, else the
    domain-wide ones with the longest matching domain. Ports and schemes do not take part:
    one host name is one site to the proxy.

    More than one when two applications name the same host and prefix (or domain). Neither
    may then decide alone: a second application with nothing bound would open what the first
    restricts, whichever the database happened to list first."""
    best, best_length = [], -1
    for candidate in protected:
        options = candidate.options
        if options.mode != "single" or options.host != target.host:
            continue
        # Case-blind: some servers (and file systems) serve /Admin as /admin.
        prefix, path = options.prefix.lower(), target.path.lower()
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            continue
        best, best_length = _longest(best, best_length, candidate, len(prefix))
    if best:
        return best
    for candidate in protected:
        domain = candidate.options.host
        if candidate.options.mode != "domain":
            continue
        if target.host == domain or target.host.endswith("." + domain):
            best, best_length = _longest(best, best_length, candidate, len(domain))
    return best


def _longest(best: list, best_length: int, candidate, length: int) -> tuple[list, int]:
    if length > best_length:
        return [candidate], length
    if length == best_length:
        return [*best, candidate], length
    return best, best_length


def is_cookie_domain_host(host: str) -> bool:
    domain = current_app.config.get("COOKIE_DOMAIN") or ""
    return bool(domain) and (host == domain or host.endswith("." + domain))
