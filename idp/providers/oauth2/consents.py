"""The consent tokens are issued under, when the application's authorization flow asks one.

Tokens never outlive it: their expiry is capped at the consent's when they are issued (so
nothing is asked on each use), and a family carries the consent's agreement, so a consent
given again after it expired, or withdrawn and given again, does not revive the tokens issued
under the earlier one. A user the consent stage passed over has no consent: their tokens are
issued under none and last as issued. An authorization code carries the agreement it was
issued under too, so a consent withdrawn or given again in the code's minute refuses it.
An ID token, like the others, expires no later than the consent."""

from datetime import datetime

from flask import g
from sqlalchemy import select

from idp.core.extensions import db
from idp.flows.loading import load_running_flow
from idp.models import Consent
from idp.models.types import utcnow


def asks_consent(client) -> bool:
    flow = (
        load_running_flow(client.authorization_flow_slug)
        if client.authorization_flow_slug
        else None
    )
    return flow is not None and any(binding.stage.type == "consent" for binding in flow.bindings)


def consent_of(client, user) -> Consent | None:
    """The user's consent to this application when its flow asks one; read once per request
    (the refresh grant checks it, then the tokens are capped at it and carry it)."""
    if user is None or not asks_consent(client):
        return None
    known = g.setdefault("oauth2_consents", {})
    key = (client.application.id, user.id)
    if key not in known:
        known[key] = db.session.scalar(
            select(Consent).where(
                Consent.user_id == user.id,
                Consent.subject == f"application:{client.application.id}",
            )
        )
    return known[key]


def stands(consent: Consent) -> bool:
    """The expiry instant itself is already over, as at the consent stage."""
    return consent.expires_at is None or consent.expires_at > utcnow()


def still_agreed(client, user, agreement: str | None) -> bool:
    """Whether a code or a refresh token issued under `agreement` may still be used: that
    consent was not withdrawn, let expire or given again since. What was issued under none
    (the stage passed the user over) lasts as issued, even beside an older consent that
    expired; withdrawing a consent revokes tokens and deletes codes itself."""
    if agreement is None or not asks_consent(client):
        return True
    consent = consent_of(client, user)
    return consent is not None and stands(consent) and consent.agreement == agreement


def standing_agreement(client, user) -> str | None:
    """The agreement a code is issued under: the consent's while it stands. One that is over
    was not asked again, so the stage passed the user over: none."""
    consent = consent_of(client, user)
    return consent.agreement if consent is not None and stands(consent) else None


def _standing_expiry(client, user) -> datetime | None:
    """When the standing consent ends; None when it never does or none stands. One that is
    already over is not what the token is issued under (the stage passed the user over, and
    a code or family under it was refused before this)."""
    consent = consent_of(client, user)
    return consent.expires_at if consent is not None and stands(consent) else None


def capped(expiry: datetime, client, user) -> datetime:
    """`expiry`, or the standing consent's if that comes first."""
    consent_expiry = _standing_expiry(client, user)
    if consent_expiry is None:
        return expiry
    return min(expiry, consent_expiry)


def capped_lifetime(seconds: int, client, user) -> int:
    """A lifetime in whole seconds that ends no later than the standing consent."""
    consent_expiry = _standing_expiry(client, user)
    if consent_expiry is None:
        return seconds
    left = int((consent_expiry - utcnow()).total_seconds())
    return max(0, min(seconds, left))
