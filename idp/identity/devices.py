"""Devices a user signed in on before, remembered in a long-lived signed cookie.

OWASP's "device cookies": failed sign-ins from strangers are counted per typed name; a
browser that proves it signed in as this user before is counted on its own, so nobody can
keep the real user out by guessing at their account.
"""

import secrets

from flask import current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE_NAME = "gatehouse_device"
SECURE_COOKIE_NAME = "__Host-gatehouse_device"
MAX_AGE = 180 * 24 * 3600
MAX_USERS_PER_DEVICE = 5


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="gatehouse device")


def _cookie_name() -> str:
    return SECURE_COOKIE_NAME if request.is_secure else COOKIE_NAME


def _remembered() -> list[dict]:
    """The (user, nonce) pairs this browser holds, validly signed and not too old."""
    raw = request.cookies.get(_cookie_name())
    if not raw:
        return []
    try:
        entries = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    return [
        entry
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("u"), int) and entry.get("n")
    ]


def trusted_device_of(user) -> str | None:
    """This browser's nonce for the user, when the user signed in on it before."""
    if user is None:
        return None
    for entry in _remembered():
        if entry["u"] == user.id:
            return str(entry["n"])
    return None


def remember_device(user) -> None:
    """Remember this browser for the user; the cookie is written with the response."""
    others = [entry for entry in _remembered() if entry["u"] != user.id]
    entry = {"u": user.id, "n": trusted_device_of(user) or secrets.token_urlsafe(12)}
    g.remembered_devices = [entry, *others][:MAX_USERS_PER_DEVICE]


def _write_cookie(response):
    entries = g.pop("remembered_devices", None)
    if entries is not None:
        response.set_cookie(
            _cookie_name(),
            _serializer().dumps(entries),
            max_age=MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path="/",
        )
    return response


def init_app(app) -> None:
    app.after_request(_write_cookie)
