"""Who the proxied request comes from, and what the app is told about them."""

import logging

from flask import current_app, request
from itsdangerous import BadSignature

from idp.identity.security import (
    COOKIE_NAME,
    DOMAIN_SECURE_COOKIE_NAME,
    SECURE_COOKIE_NAME,
    cookie_domain_for_request,
)
from idp.identity.sessions import SESSION_KEY, session_for_key
from idp.providers.proxy.options import ProxyOptions
from idp.providers.proxy.targets import Target, is_cookie_domain_host

log = logging.getLogger("idp.forward_auth")


def _cookie_names(target: Target) -> tuple[str, ...]:
    # The browser sent the app's request with the cookies of the app's host: the domain
    # cookie, or Gatehouse's own host-only one when the app shares Gatehouse's host.
    # A Secure cookie never travels to a plain-HTTP app; a plain one (Gatehouse itself served
    # over HTTP) travels to both.
    if target.scheme == "https":
        return (DOMAIN_SECURE_COOKIE_NAME, SECURE_COOKIE_NAME, COOKIE_NAME)
    return (COOKIE_NAME,)


def session_for_target(target: Target):
    """The valid session behind the cookie the browser sent to the app, or None."""
    interface = current_app.session_interface
    serializer = interface.get_signing_serializer(current_app)
    max_age = int(current_app.permanent_session_lifetime.total_seconds())
    for name in _cookie_names(target):
        raw = request.cookies.get(name)
        if not raw:
            continue
        try:
            data = serializer.loads(raw, max_age=max_age)
        except BadSignature:
            continue
        key = data.get(SESSION_KEY) if isinstance(data, dict) else None
        if isinstance(key, str):
            row = session_for_key(key)
            if row is not None:
                return row
    return None


def _is_control(character: str) -> bool:
    return ord(character) < 32 or ord(character) == 127


def _header_value(value) -> str:
    # HTTP headers carry bytes; send UTF-8 (what apps decode, as Authelia and authentik send
    # it) and no control character: CR or LF would end the header.
    text = "".join(" " if _is_control(c) else c for c in str(value))
    return text.encode("utf-8").decode("latin-1")


def _listable(name: str) -> bool:
    """A group name Remote-Groups can carry as it is. One with a comma would read as two
    groups ("a,admins" as a and admins); one with a control character or spaces at its ends
    would reach the app trimmed ("staff\\t" as staff). Such a group is left out: the app sees
    the user in fewer groups, never in one they are not in."""
    return "," not in name and not any(_is_control(c) for c in name) and name.strip() == name


def headers_for(
    user, groups, options: ProxyOptions, application: str = ""
) -> list[tuple[str, str]]:
    """Remote-User, -Groups, -Email, -Name (always all four, so a proxy that copies them
    overwrites whatever the client sent), then the application's extra headers."""
    headers = [
        ("Remote-User", user.username),
        ("Remote-Groups", ",".join(group.name for group in groups if _listable(group.name))),
        ("Remote-Email", user.email or ""),
        ("Remote-Name", user.name or ""),
    ]
    sent = [(name, _header_value(value)) for name, value in headers]
    return sent + _extra_headers(user, options, application)


# Caps on the extra headers, in bytes as sent (UTF-8). One value: 4 KiB. Servers refuse a
# longer request header line than about 8 KiB (gunicorn's and Apache's limit is 8190 bytes
# per field, nginx's large_client_header_buffers 8k a line), and what an attribute puts in a
# header (a department, an employee number, a role) is a few words; more is a mistake, such as
# a photo in an attribute. All extra headers together (names and values): 8 KiB. The answer's
# headers must fit in the 32 KiB nginx keeps for them (deploy/forward-auth/nginx.conf) beside
# Remote-Groups, which for someone in many groups takes 10 KiB or more, and the app's server
# must take the request with all of them (Node.js takes 16 KiB of headers in all).
EXTRA_HEADER_VALUE_BYTES = 4096
EXTRA_HEADERS_BYTES = 8192


def _extra_headers(user, options: ProxyOptions, application: str) -> list[tuple[str, str]]:
    """The application's extra headers this user has a value for. A value over the caps is
    left out, never cut: a cut value would be another value (a list of roles one short)."""
    attributes = user.attributes or {}
    headers, room = [], EXTRA_HEADERS_BYTES
    for header, key in options.header_attributes:
        value = attributes.get(key)
        if value is None or isinstance(value, dict | list):
            continue
        sent = _header_value(value)
        size = len(sent)  # latin-1 text: one character per byte sent
        over = _over_cap(len(header), size, room)
        if over:
            log.warning(
                "forward auth leaves out an extra header: its value is too long",
                extra={
                    "application": application,
                    "user_id": user.id,
                    "header": header,
                    "attribute": key,
                    "value_bytes": size,
                    "cap": over,
                },
            )
            continue
        headers.append((header, sent))
        room -= len(header) + size
    return headers


def _over_cap(name_size: int, value_size: int, room: int) -> str:
    """Which cap the header passes, in words for the log; "" for none."""
    if value_size > EXTRA_HEADER_VALUE_BYTES:
        return f"{EXTRA_HEADER_VALUE_BYTES} bytes a value"
    if name_size + value_size > room:
        return f"{EXTRA_HEADERS_BYTES} bytes for all extra headers"
    return ""


def why_not_seen(target: Target) -> list[str]:
    """Why the app's proxy did not see the session it should have: the checks Gatehouse can
    make from here, most likely first."""
    reasons = []
    domain = current_app.config.get("COOKIE_DOMAIN") or ""
    gatehouse_host = (request.host or "").rsplit(":", 1)[0].lower()
    if target.host != gatehouse_host:
        if not domain:
            reasons.append(
                f"No shared cookie: IDP_COOKIE_DOMAIN is not set, so the session cookie "
                f"belongs to {gatehouse_host} alone and never reaches {target.host}. Set "
                "IDP_COOKIE_DOMAIN to the domain both share (for example example.org)."
            )
        elif cookie_domain_for_request() is None:
            reasons.append(
                f"Wrong domain: Gatehouse is reached at {gatehouse_host}, which is not under "
                f"IDP_COOKIE_DOMAIN ({domain}), so its session cookie stays with "
                f"{gatehouse_host}. Serve Gatehouse at a host under {domain} (and set "
                "IDP_BASE_URL to it)."
            )
        elif not is_cookie_domain_host(target.host):
            reasons.append(
                f"Wrong domain: the session cookie is for {domain} and its sub-domains, but "
                f"the application is at {target.host}. Put the application under {domain}, "
                "or set IDP_COOKIE_DOMAIN to a domain both share."
            )
    if request.is_secure and target.scheme == "http":
        reasons.append(
            "http versus https: Gatehouse is served over HTTPS, so its session cookie is "
            f"Secure and the browser does not send it to {target.url.split('?')[0]}, which "
            "is plain HTTP. Serve the application over HTTPS."
        )
    if not reasons:
        reasons.append(
            "The proxy drops a header: the cookie should reach the application, so the proxy "
            "in front of it probably does not pass the Cookie header to Gatehouse's "
            "forward-auth endpoint, or sends the original address in headers Gatehouse does "
            "not read (X-Original-URL for nginx; X-Forwarded-Proto, -Host and -Uri for Caddy "
            "and Traefik), or is not listed in IDP_TRUSTED_PROXIES. Compare it with the "
            "snippets in deploy/."
        )
    return reasons
