"""Back-channel logout 1.0: when a session ends (sign-out, RP-initiated logout, revocation by
the user or an administrator), every application it signed in to that registered a
`backchannel_logout_uri` gets a logout token, signed like its ID tokens.

Which applications a session signed in to is kept in SessionApplication rows, made when a code
is issued. When sessions end, `sessions_ended` (called in that transaction) notes what to
send; once the request's answer is ready, the tokens are signed and posted from a thread of
their own with a short timeout, so a slow or dead client never holds up anyone's sign-out. A failed
delivery is logged and not retried (the spec leaves retrying to the OP; the client's own
session timeout is the backstop).
"""

import hashlib
import hmac
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import current_app, g
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from idp.core.database import in_parts
from idp.core.extensions import db
from idp.core.options import OptionsError, parse_options
from idp.models import Application, Provider, SessionApplication, UserSession
from idp.providers.oauth2.options import OAuth2Options

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("idp.oauth2")

EVENT = "http://schemas.openid.net/event/backchannel-logout"
# Seconds to connect and to answer, per application.
TIMEOUT = 2.0
LOGOUT_TOKEN_LIFETIME = 120
PENDING = "oauth2_backchannel_logouts"


def session_sid(session_id: int) -> str:
    """The `sid` of a session: stable, the same for every application, and telling nothing
    of the row behind it."""
    key = hashlib.sha256(b"gatehouse oidc sid " + current_app.config["SECRET_KEY"].encode())
    return hmac.new(key.digest(), str(session_id).encode(), hashlib.sha256).hexdigest()[:32]


def remember_sign_in(session_id: int | None, application_id: int, issuer: str) -> None:
    """Note that this session signed in to this application (once), and by which issuer
    (the host it reached Gatehouse at) it knows Gatehouse."""
    if session_id is None:
        return
    known = db.session.scalar(
        select(SessionApplication.id).where(
            SessionApplication.session_id == session_id,
            SessionApplication.application_id == application_id,
        )
    )
    if known is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(
                SessionApplication(
                    session_id=session_id, application_id=application_id, issuer=issuer
                )
            )
    except IntegrityError:
        pass  # a parallel authorization in the same session noted it first


@dataclass(frozen=True)
class PendingLogout:
    application: str
    issuer: str
    client_id: str
    uri: str
    algorithm: str
    user_id: int
    session_id: int


@dataclass(frozen=True)
class Delivery:
    application: str
    uri: str
    logout_token: str


def sessions_ended(session_ids: list[int]) -> None:
    """What to send for these sessions (the listener sessions.py calls): noted for after the
    answer, and the sessions' rows of applications let go."""
    rows = [
        row
        for some in in_parts(session_ids)
        for row in db.session.execute(
            select(SessionApplication, UserSession.user_id, Application.slug, Provider)
            .join(UserSession, UserSession.id == SessionApplication.session_id)
            .join(Application, Application.id == SessionApplication.application_id)
            .join(Provider, Provider.application_id == Application.id)
            .where(SessionApplication.session_id.in_(some), Provider.type == "oauth2")
        )
    ]
    pending = g.setdefault(PENDING, [])
    for signed_in, user_id, slug, provider in rows:
        try:
            options = parse_options(OAuth2Options, provider.options)
        except OptionsError:
            continue
        if options.backchannel_logout_uri:
            pending.append(
                PendingLogout(
                    slug, signed_in.issuer, provider.client_id, options.backchannel_logout_uri,
                    options.signing_algorithm, user_id, signed_in.session_id,
                )
            )  # fmt: skip
    if rows:
        for some in in_parts(sorted({row[0].session_id for row in rows})):
            db.session.execute(
                delete(SessionApplication).where(SessionApplication.session_id.in_(some))
            )


def send_after_answer(response):
    """The request's answer is ready (and its transaction committed): sign the logout tokens
    of the sessions that really ended, and post them from a thread of their own."""
    pending = g.pop(PENDING, None)
    if not pending or response.status_code >= 400:
        return response
    ended = _still_ended({item.session_id for item in pending})
    deliveries = [_delivery(item) for item in pending if item.session_id in ended]
    if deliveries:
        threading.Thread(
            target=deliver, args=(deliveries,), name="backchannel-logout", daemon=True
        ).start()
    return response


def _still_ended(session_ids: set[int]) -> set[int]:
    """Sessions whose end was committed: revoked, or deleted with their user. A request that
    rolled back leaves them alive, and then nobody is told."""
    alive = {
        session_id
        for some in in_parts(sorted(session_ids))
        for session_id in db.session.scalars(
            select(UserSession.id).where(UserSession.id.in_(some), UserSession.revoked_at.is_(None))
        )
    }
    return session_ids - alive


def _delivery(item: PendingLogout) -> Delivery:
    now = int(time.time())
    claims = {
        "iss": item.issuer,
        "aud": item.client_id,
        "iat": now,
        "exp": now + LOGOUT_TOKEN_LIFETIME,
        "jti": secrets.token_urlsafe(16),
        "sub": str(item.user_id),
        # The session that ended, always: the client had its sid in the ID token already, and
        # without it the token means every session of the user at the client (Back-Channel
        # Logout 1.0, 2.4), while one that keys its sessions by sid (mod_auth_openidc) finds
        # none to end and answers 200 all the same.
        "sid": session_sid(item.session_id),
        "events": {EVENT: {}},
    }
    # Imported here, not at the top: routes.py imports this module, and signing needs the
    # JOSE libraries, which a worker loads with its first OpenID Connect request
    # (idp/core/lazy_views.py).
    from idp.providers.oauth2 import tokens

    return Delivery(item.application, item.uri, tokens.signed(claims, item.algorithm, "logout+jwt"))


def deliver(deliveries: list[Delivery]) -> None:
    # Imported here, not at the top: a worker that never posts a logout token never loads the
    # HTTP client (2 MiB of every worker's memory, bench/signin.py).
    import httpx

    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        for delivery in deliveries:
            _post(client, delivery)


def _post(client: "httpx.Client", delivery: Delivery) -> None:
    import httpx

    try:
        answer = client.post(
            delivery.uri,
            data={"logout_token": delivery.logout_token},
            headers={"Cache-Control": "no-store"},
        )
    except httpx.HTTPError as error:
        log.warning(
            "back-channel logout not delivered",
            extra={"application": delivery.application, "error": type(error).__name__},
        )
        return
    if answer.status_code != 200 and answer.status_code != 204:
        log.warning(
            "back-channel logout refused",
            extra={"application": delivery.application, "status": answer.status_code},
        )
        return
    log.info("back-channel logout delivered", extra={"application": delivery.application})
