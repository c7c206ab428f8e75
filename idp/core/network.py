"""The client's address and the request's scheme, taken from forwarded headers only when the
request came through a trusted proxy (IDP_TRUSTED_PROXIES)."""

import ipaddress

from flask import current_app, request


def client_ip() -> str:
    remote = request.remote_addr or ""
    trusted = current_app.config["TRUSTED_PROXIES"]
    if not is_in(remote, trusted):
        return remote
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    # Walk from the nearest hop back; the first address that is not one of ours is the client.
    for address in reversed([part for part in forwarded if part]):
        if not _is_valid(address):
            return remote
        if not is_in(address, trusted):
            return address
    return remote


def is_from_trusted_proxy() -> bool:
    return is_in(request.remote_addr or "", current_app.config["TRUSTED_PROXIES"])


def user_agent() -> str:
    return request.headers.get("User-Agent", "")[:500]


class ForwardedScheme:
    """WSGI middleware: a trusted proxy's X-Forwarded-Proto becomes the request's scheme, so
    the app knows it is served over HTTPS (Secure, __Host- cookies; HSTS). From anyone else
    the header is ignored. gunicorn's own forwarded handling is off (idp/gunicorn_conf.py), so this
    is the one place that decides, with the same list as client_ip()."""

    def __init__(self, app):
        self.app = app
        self.wsgi_app = app.wsgi_app

    def __call__(self, environ, start_response):
        trusted = self.app.config["TRUSTED_PROXIES"]
        if is_in(environ.get("REMOTE_ADDR", ""), trusted):
            # The nearest proxy's value is the last one.
            forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip().lower()
            if forwarded in ("http", "https"):
                environ["wsgi.url_scheme"] = forwarded
        return self.wsgi_app(environ, start_response)


def _is_valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def is_in(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
