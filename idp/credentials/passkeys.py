"""Passkeys and security keys (WebAuthn), with py_webauthn doing every CBOR and signature check.

The relying party (id and origin) comes from settings, never from the request. A challenge is
a database row bound to one plan's stage: made when the stage is reached (or on a POST),
read to render the page, and deleted by the request that answers it, so the same answer
cannot be used twice, by a replayed cookie or by parallel requests. Helpers flush; the
request commits.
"""

import hashlib
import hmac
import json
import logging
import secrets
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from idp.core.database import refused_as_missing, refused_as_taken
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.models import User, WebAuthnChallenge, WebAuthnDevice
from idp.models.types import utcnow

log = logging.getLogger("idp.credentials.passkeys")

# py_webauthn (with cbor2, pyOpenSSL, pyasn1 and cryptography: some 20 MiB) is imported by the
# functions that run a ceremony: a worker that serves no passkey never loads it.

REGISTER = "register"
AUTHENTICATE = "authenticate"
PASSWORDLESS = "passwordless"

# How long the browser has to answer; the ceremony itself times out a little earlier.
CHALLENGE_LIFETIME = timedelta(minutes=5)
CEREMONY_TIMEOUT_MS = 240_000
# A browser's answer is a few kilobytes; anything far bigger is not one.
MAX_RESPONSE_LENGTH = 64 * 1024
RELYING_PARTY_NAME = "Gatehouse"

UNAVAILABLE = N_(
    "Passkeys are not available here yet: the administrator has not set IDP_BASE_URL "
    "(or IDP_WEBAUTHN_RP_ID and IDP_WEBAUTHN_ORIGIN) to a domain name."
)
EXPIRED = N_("That passkey request expired or was already used. Please try again.")
NOT_ACCEPTED = N_("That passkey could not be used. Please try again.")
UNKNOWN_PASSKEY = N_("That passkey is not registered here.")
COUNTER_WENT_BACK = (
    "That passkey was refused: it reports fewer uses than before, as a copied security key "
    "would. Use another way to sign in, and tell your administrator."
)
ALREADY_REGISTERED = N_("That passkey is already registered.")
ACCOUNT_GONE = N_("This account no longer exists, so no passkey was saved.")
AAGUID_NOT_ALLOWED = N_("This kind of security key is not allowed here.")

USER_VERIFICATION = ("discouraged", "preferred", "required")
RESIDENT_KEY = ("discouraged", "preferred", "required")
ATTACHMENTS = ("", "platform", "cross-platform")


class PasskeyRefused(Exception):
    """The browser's answer was not accepted; the message is for the user."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class AccountGone(Exception):
    """The account was deleted while its passkey was being registered."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party() -> RelyingParty | None:
    """None when passkeys are switched off (no domain name configured)."""
    rp_id = current_app.config.get("WEBAUTHN_RP_ID") or ""
    origin = current_app.config.get("WEBAUTHN_ORIGIN") or ""
    if not rp_id or not origin:
        return None
    return RelyingParty(rp_id, origin)


def base64url_to_bytes(value: str) -> bytes:
    """py_webauthn's helper of the same name: padding is optional in Base64URL."""
    return urlsafe_b64decode(f"{value}===")


def bytes_to_base64url(value: bytes) -> str:
    return urlsafe_b64encode(value).decode("utf-8").rstrip("=")


def user_handle(user: User) -> bytes:
    """The opaque id the authenticator keeps for the user: no name, no database number."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"webauthn user:{user.id}".encode(), hashlib.sha256).digest()


# -- challenges -------------------------------------------------------------------------------


def new_challenge(plan_id: str, binding_id: int, purpose: str, user: User | None) -> bytes:
    """A fresh challenge for this plan's stage; an older one of the same stage is replaced,
    and challenges nobody answered in time are cleared away."""
    now = utcnow()
    db.session.execute(
        delete(WebAuthnChallenge)
        .where(
            (WebAuthnChallenge.expires_at <= now)
            | (
                (WebAuthnChallenge.plan_id == plan_id)
                & (WebAuthnChallenge.binding_id == binding_id)
            )
        )
        .execution_options(synchronize_session=False)
    )
    challenge = secrets.token_bytes(64)  # what py_webauthn's generate_challenge() gives
    db.session.add(
        WebAuthnChallenge(
            plan_id=plan_id,
            binding_id=binding_id,
            purpose=purpose,
            challenge=bytes_to_base64url(challenge),
            user_id=user.id if user else None,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )
    db.session.flush()
    return challenge


def current_challenge(plan_id: str, binding_id: int, purpose: str) -> WebAuthnChallenge | None:
    """The challenge waiting for this stage's answer (only reads)."""
    return db.session.scalar(
        select(WebAuthnChallenge).where(
            WebAuthnChallenge.plan_id == plan_id,
            WebAuthnChallenge.binding_id == binding_id,
            WebAuthnChallenge.purpose == purpose,
            WebAuthnChallenge.expires_at > utcnow(),  # refused at its limit, as every time rule
        )
    )


def take_challenge(plan_id: str, binding_id: int, purpose: str) -> WebAuthnChallenge | None:
    """Use up this stage's challenge: of two requests that try, exactly one gets it (the
    DELETE decides); a replayed answer gets None."""
    row = current_challenge(plan_id, binding_id, purpose)
    if row is None:
        return None
    deleted = db.session.execute(
        delete(WebAuthnChallenge)
        .where(WebAuthnChallenge.id == row.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expunge(row)
    return row if deleted == 1 else None


# -- registration -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationSettings:
    resident_key: str = "preferred"
    user_verification: str = "preferred"
    authenticator_attachment: str = ""
    allowed_aaguids: tuple[str, ...] = ()


def registration_options_json(
    party: RelyingParty, user: User, challenge: bytes, settings: RegistrationSettings
) -> str:
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AttestationConveyancePreference,
        AuthenticatorAttachment,
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    selection = AuthenticatorSelectionCriteria(
        resident_key=ResidentKeyRequirement(settings.resident_key),
        require_resident_key=settings.resident_key == "required",
        user_verification=UserVerificationRequirement(settings.user_verification),
        authenticator_attachment=(
            AuthenticatorAttachment(settings.authenticator_attachment)
            if settings.authenticator_attachment
            else None
        ),
    )
    options = generate_registration_options(
        rp_id=party.id,
        rp_name=RELYING_PARTY_NAME,
        user_id=user_handle(user),
        user_name=user.email or user.username,
        user_display_name=user.name or user.username,
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        # Attestation is asked for only when the stage names the keys it allows.
        attestation=(
            AttestationConveyancePreference.DIRECT
            if settings.allowed_aaguids
            else AttestationConveyancePreference.NONE
        ),
        authenticator_selection=selection,
        exclude_credentials=[_descriptor(device) for device in devices_of(user)],
    )
    return options_to_json(options)


def register(
    party: RelyingParty,
    user: User,
    challenge: WebAuthnChallenge,
    response: str,
    settings: RegistrationSettings,
    name: str,
) -> WebAuthnDevice:
    """Check the browser's answer to navigator.credentials.create() and save the passkey."""
    from webauthn import verify_registration_response
    from webauthn.helpers import (
        decode_credential_public_key,
        decoded_public_key_to_cryptography,
        parse_registration_credential_json,
    )
    from webauthn.helpers.structs import AttestationFormat, AuthenticatorTransport

    try:
        credential = parse_registration_credential_json(_limited(response))
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=_challenge_bytes(challenge),
            expected_rp_id=party.id,
            expected_origin=party.origin,
            require_user_verification=settings.user_verification == "required",
        )
        # py_webauthn saves a key it never opened (a point off its curve): open it now, so
        # that a key no sign-in could use is refused here.
        decoded_public_key_to_cryptography(
            decode_credential_public_key(verified.credential_public_key)
        )
    except _unreadable() as error:
        log.info("passkey registration refused", extra={"reason": str(error)})
        raise PasskeyRefused(NOT_ACCEPTED) from None
    if settings.allowed_aaguids and (
        # Without an attestation statement the AAGUID is only the authenticator's word.
        verified.fmt == AttestationFormat.NONE
        or verified.aaguid.lower() not in settings.allowed_aaguids
    ):
        raise PasskeyRefused(AAGUID_NOT_ALLOWED)
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.scalar(
        select(WebAuthnDevice.id).where(WebAuthnDevice.credential_id == credential_id)
    ):
        raise PasskeyRefused(ALREADY_REGISTERED)
    transports = [
        transport.value if isinstance(transport, AuthenticatorTransport) else str(transport)
        for transport in (credential.response.transports or [])
    ]
    device = WebAuthnDevice(
        user_id=user.id,
        name=(name or "").strip()[:100] or "Passkey",
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        user_handle=bytes_to_base64url(user_handle(user)),
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        transports=",".join(transports)[:200],
        backup_eligible=verified.credential_device_type == "multi_device",
        backup_state=verified.credential_backed_up,
    )
    try:
        # The check above misses a registration of the same id that is not committed yet.
        with db.session.begin_nested():
            db.session.add(device)
    except IntegrityError as error:
        if refused_as_taken(error):
            raise PasskeyRefused(ALREADY_REGISTERED) from None
        if refused_as_missing(error):  # the user's row is gone: not a passkey problem
            raise AccountGone from None
        raise
    return device


def account_exists(user: User) -> bool:
    return db.session.scalar(select(User.id).where(User.id == user.id)) is not None


def _is_signed(verify) -> bool:
    """Whether the answer checks out apart from its counter."""
    try:
        verify(0)
    except _unreadable():
        return False
    return True


def _unreadable() -> tuple:
    """What py_webauthn raises on an answer it cannot read: its own errors, and the plain ones
    its parsers let through (a COSE key without its parts, a TPM area cut short)."""
    from webauthn.helpers.exceptions import WebAuthnException

    return (WebAuthnException, ValueError, TypeError, KeyError, IndexError)


# -- authentication ---------------------------------------------------------------------------


def authentication_options_json(
    party: RelyingParty, challenge: bytes, user: User | None, user_verification: str
) -> str:
    """For a known user, their own passkeys; for passwordless sign-in, none listed (the
    browser offers the discoverable ones it has for this site)."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    allowed = [_descriptor(device) for device in devices_of(user)] if user else []
    options = generate_authentication_options(
        rp_id=party.id,
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        allow_credentials=allowed,
        user_verification=UserVerificationRequirement(user_verification),
    )
    return options_to_json(options)


def authenticate(
    party: RelyingParty,
    challenge: WebAuthnChallenge,
    response: str,
    user: User | None,
    require_user_verification: bool,
    flow_slug: str = "",
) -> WebAuthnDevice:
    """Check the browser's answer to navigator.credentials.get(). With `user`, the passkey
    must be theirs; without (passwordless), the passkey names its user, and its user handle
    must be the one it was made with. The sign counter must go up (a copied authenticator's
    goes back), and the backup flags are kept."""
    from webauthn import verify_authentication_response
    from webauthn.helpers import parse_authentication_credential_json
    from webauthn.helpers.exceptions import InvalidAuthenticationResponse

    try:
        credential = parse_authentication_credential_json(_limited(response))
    except _unreadable():
        raise PasskeyRefused(NOT_ACCEPTED) from None
    device = db.session.scalar(
        select(WebAuthnDevice).where(
            WebAuthnDevice.credential_id == bytes_to_base64url(credential.raw_id)
        )
    )
    if device is None or (user is not None and device.user_id != user.id):
        raise PasskeyRefused(UNKNOWN_PASSKEY)
    handle = credential.response.user_handle
    if user is None and (handle is None or bytes_to_base64url(handle) != device.user_handle):
        raise PasskeyRefused(UNKNOWN_PASSKEY)

    def verify(current_sign_count: int):
        return verify_authentication_response(
            credential=credential,
            expected_challenge=_challenge_bytes(challenge),
            expected_rp_id=party.id,
            expected_origin=party.origin,
            credential_public_key=device.public_key,
            credential_current_sign_count=current_sign_count,
            require_user_verification=require_user_verification,
        )

    try:
        verified = verify(device.sign_count)
    except InvalidAuthenticationResponse as error:
        # py_webauthn compares the counter before it checks the signature: only a signed
        # answer says the passkey may be cloned (and whose it is); anyone could send the rest.
        if "sign count" in str(error) and _is_signed(verify):
            record_event(
                "passkey_counter_went_back",
                user=db.session.get(User, device.user_id),
                ip=client_ip(),
                flow_slug=flow_slug,
                device=device.name,
                device_id=device.id,
            )
            raise PasskeyRefused(COUNTER_WENT_BACK) from None
        log.info("passkey assertion refused", extra={"reason": str(error)})
        raise PasskeyRefused(NOT_ACCEPTED) from None
    except _unreadable() as error:
        log.info("passkey assertion refused", extra={"reason": str(error)})
        raise PasskeyRefused(NOT_ACCEPTED) from None
    # The counter moves only forward, in one UPDATE: a parallel use with the same count loses.
    moved = db.session.execute(
        update(WebAuthnDevice)
        .where(
            WebAuthnDevice.id == device.id,
            (WebAuthnDevice.sign_count < verified.new_sign_count)
            | (WebAuthnDevice.sign_count == 0),
        )
        .values(
            sign_count=verified.new_sign_count,
            backup_state=verified.credential_backed_up,
            last_used_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise PasskeyRefused(COUNTER_WENT_BACK)
    return device


# -- a user's passkeys ------------------------------------------------------------------------


def devices_of(user: User) -> list[WebAuthnDevice]:
    return list(
        db.session.scalars(
            select(WebAuthnDevice)
            .where(WebAuthnDevice.user_id == user.id)
            .order_by(WebAuthnDevice.created_at, WebAuthnDevice.id)
        )
    )


def has_devices(user: User) -> bool:
    return bool(
        db.session.scalar(
            select(select(WebAuthnDevice.id).where(WebAuthnDevice.user_id == user.id).exists())
        )
    )


def _descriptor(device: WebAuthnDevice):
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    transports = []
    for name in filter(None, device.transports.split(",")):
        try:
            transports.append(AuthenticatorTransport(name))
        except ValueError:
            continue  # a transport this py_webauthn does not know: the browser finds it anyway
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(device.credential_id), transports=transports or None
    )


def _challenge_bytes(challenge: WebAuthnChallenge) -> bytes:
    return base64url_to_bytes(challenge.challenge)


def _limited(response: str) -> str:
    if not response or len(response) > MAX_RESPONSE_LENGTH:
        raise ValueError("no answer, or far too long")
    json.loads(response)  # malformed JSON is refused here, as a ValueError
    return response
