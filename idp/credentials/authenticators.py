"""Second factors: TOTP authenticator apps and recovery codes, set up and checked per user.

Shared by the authenticator stages and the account page. Every "good once" rule is an atomic
UPDATE in the database, so neither parallel requests nor a replayed cookie can use a code
twice. Helpers flush; the request commits.
"""

import base64
import functools
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import (
    bindparam,
    delete,
    false,
    literal,
    literal_column,
    null,
    select,
    union_all,
    update,
)

from idp.brand.settings import current_brand
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_, translated
from idp.core.network import client_ip
from idp.core.options import OptionsError
from idp.core.sealing import SEALED, SealBroken, seal, unseal
from idp.models import StaticCode, TotpDevice, User, WebAuthnDevice
from idp.models.types import utcnow

TOTP = "totp"
RECOVERY_CODES = "recovery_codes"
# Passkeys and security keys (idp.credentials.passkeys). They are listed and removed here with the
# others, but kinds_of() leaves them out: it says which codes a user can type.
WEBAUTHN = "webauthn"
# The kinds list_authenticators names and remove_authenticator takes.
KINDS = (TOTP, RECOVERY_CODES, WEBAUTHN)

# What the setup pages say, shared by the stages that set up an app.
SCAN_NEW_QR_CODE = N_(
    "Scan this QR code with your authenticator app, then enter the code it shows."
)
WRONG_SETUP_CODE = N_(
    "That code is not right. Enter the newest code your app shows for this account."
)

# Long enough for an 8-digit code or a grouped recovery code with some stray spaces.
MAX_CODE_LENGTH = 64
# Crockford's base32 without 0, 1 and U: nothing to confuse (O/0, I/1/L) when read aloud.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
RECOVERY_CODE_LENGTH = 10
RECOVERY_GROUP = 5
# A code is accepted one time step early or late (clock drift, typing time).
VALID_WINDOW = 1


# The issuer an authenticator app shows by default: the brand's product name, filled in when
# the QR code is made (an edited brand shows in the next one).
BRANDED_ISSUER = "{product_name}"


@dataclass(frozen=True)
class TotpSettings:
    issuer: str = BRANDED_ISSUER
    digits: int = 6
    period: int = 30


@dataclass(frozen=True)
class Authenticator:
    """One line of the account page: a TOTP device, or the set of recovery codes (id 0)."""

    kind: str
    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    detail: str = ""


def issuer_shown(issuer: str) -> str:
    """The issuer with the brand's product name filled in; a colon in the name (which would
    split the otpauth:// label "issuer:account") becomes a space."""
    return " ".join(current_brand().branded(issuer).replace(":", " ").split()) or "Gatehouse"


def validate_issuer(issuer: str) -> None:
    # The otpauth:// label is "issuer:account", so a colon would split it in the wrong place.
    if not issuer.strip() or len(issuer) > 100 or ":" in issuer:
        raise OptionsError("issuer", N_("must be 1 to 100 characters, without a colon"))


def normalize_code(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


# -- TOTP -------------------------------------------------------------------------------------


# pyotp, segno and cryptography are imported where they are used: a worker that serves
# sign-ins of people without an authenticator never loads them (bench/signin.py, memory).


def new_totp_secret() -> str:
    import pyotp

    return pyotp.random_base32()  # 160 bits


def provisioning_uri(user: User, secret: str, settings: TotpSettings) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return _totp(secret, settings).provisioning_uri(
        name=user.email or user.username, issuer_name=issuer_shown(settings.issuer)
    )


def qr_code_svg(text: str) -> Markup:
    """An inline SVG (no script, no style attribute: the CSP allows it in the page)."""
    import segno

    svg = segno.make(text, error="m", micro=False).svg_inline(
        scale=4, dark="#000", light="#fff", title="QR code for your authenticator app"
    )
    # segno writes only numbers and our constant title into the SVG; nothing typed reaches it.
    return Markup(svg.replace("<svg ", '<svg role="img" class="qr-code" ', 1))  # noqa: S704


def group_secret(secret: str) -> str:
    """Groups of four, as apps show them, for typing by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def sealed_new_totp_secret() -> dict:
    """A new secret for a setup in progress, sealed so that it can wait in the plan context."""
    return seal(new_totp_secret())


def open_setup_secret(sealed_secret) -> str | None:
    """The secret of a setup in progress; None when there is none or it cannot be opened."""
    try:
        return unseal(sealed_secret)
    except SealBroken:
        return None


def totp_enrolment(user: User, secret: str, settings: TotpSettings) -> dict:
    """What the setup page shows: the QR code, the URI and the secret for typing by hand."""
    uri = provisioning_uri(user, secret, settings)
    return {"qr_code": qr_code_svg(uri), "otpauth_uri": uri, "secret": group_secret(secret)}


def finish_totp_enrolment(
    user: User, secret: str, settings: TotpSettings, code: str, flow_slug: str = ""
) -> TotpDevice | None:
    """The saved device, or None when the code does not prove the app has the secret."""
    device = add_totp_device(user, secret, settings, code)
    if device is not None:
        record_event(
            "authenticator_added", user=user, ip=client_ip(), flow_slug=flow_slug, kind=TOTP
        )
    return device


def add_totp_device(
    user: User, secret: str, settings: TotpSettings, code: str
) -> TotpDevice | None:
    """Save the device if `code` proves the app has the secret; None if it does not.

    The step just used is recorded, so the same code cannot sign in afterwards."""
    step = _matching_step(secret, settings, code)
    if step is None:
        return None
    device = TotpDevice(
        user_id=user.id,
        name=N_("Authenticator app"),
        sealed_secret=_seal_settings(secret, settings),
        last_used_step=step,
    )
    db.session.add(device)
    db.session.flush()
    return device


def use_totp_code(user: User, code: str) -> TotpDevice | None:
    """The device whose current code this is, if that step was not used before."""
    devices = db.session.scalars(select(TotpDevice).where(TotpDevice.user_id == user.id))
    for device in devices:
        try:
            secret, settings = _open_settings(device.sealed_secret)
        except SealBroken:
            continue  # sealed under another secret key: unusable, not a crash
        step = _matching_step(secret, settings, code)
        if step is not None and _claim_step(device.id, step):
            return device
    return None


def _totp(secret: str, settings: TotpSettings):
    import pyotp

    return pyotp.TOTP(secret, digits=settings.digits, interval=settings.period)


def _matching_step(secret: str, settings: TotpSettings, code: str) -> int | None:
    code = normalize_code(code)
    if len(code) != settings.digits or not (code.isascii() and code.isdigit()):
        return None
    totp = _totp(secret, settings)
    now = totp.timecode(time.time())
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _claim_step(device_id: int, step: int) -> bool:
    # One UPDATE decides: of two requests with the same code, exactly one changes the row.
    result = db.session.execute(
        update(TotpDevice)
        .where(
            TotpDevice.id == device_id,
            (TotpDevice.last_used_step.is_(None)) | (TotpDevice.last_used_step < step),
        )
        .values(last_used_step=step, last_used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _seal_settings(secret: str, settings: TotpSettings) -> str:
    # The digits and period travel with the secret: a device keeps what it was set up with.
    payload = {"secret": secret, "digits": settings.digits, "period": settings.period}
    return seal(json.dumps(payload))[SEALED]


def _open_settings(sealed_secret: str) -> tuple[str, TotpSettings]:
    try:
        payload = json.loads(unseal({SEALED: sealed_secret}))
        return payload["secret"], TotpSettings(digits=payload["digits"], period=payload["period"])
    except (ValueError, KeyError, TypeError):
        raise SealBroken("a TOTP device could not be opened") from None


# -- recovery codes ---------------------------------------------------------------------------


def replace_recovery_codes(user: User, count: int) -> list[str]:
    """New codes for the user; the unused old ones stop working. Only hashes are stored.
    The user's row is locked first: of two replacements at once the second waits, then
    deletes the codes the first made, rather than both sets staying good."""
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    db.session.execute(
        delete(StaticCode)
        .where(StaticCode.user_id == user.id, StaticCode.used_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    codes = [_new_recovery_code() for _ in range(count)]
    db.session.add_all(
        StaticCode(user_id=user.id, code_hash=_recovery_code_hash(user.id, code)) for code in codes
    )
    db.session.flush()
    return [_group_recovery_code(code) for code in codes]


def use_recovery_code(user: User, code: str) -> bool:
    """True once per code: the UPDATE that marks it used is the check."""
    code = normalize_code(code)
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    result = db.session.execute(
        update(StaticCode)
        .where(
            StaticCode.user_id == user.id,
            StaticCode.code_hash == _recovery_code_hash(user.id, code),
            StaticCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount >= 1


def _new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def _group_recovery_code(code: str) -> str:
    return "-".join(
        code[index : index + RECOVERY_GROUP] for index in range(0, len(code), RECOVERY_GROUP)
    )


def _recovery_code_hash(user_id: int, code: str) -> str:
    # A keyed HMAC, not bcrypt: the codes are random (about 49 bits each), so there is no
    # dictionary to slow down, and whoever has both the database and the secret key can open
    # the sealed TOTP secrets anyway. It also lets one UPDATE find and use the code, where
    # bcrypt would need one slow check per stored code. The user id keeps equal codes of two
    # users apart.
    message = f"{user_id}:{code}".encode()
    digest = hmac.new(_recovery_key(), message, hashlib.sha256).digest()
    return "hmac-sha256$" + base64.b64encode(digest).decode("ascii")


def _recovery_key() -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"gatehouse recovery codes"
    ).derive(current_app.config["SECRET_KEY"].encode())


# -- for the account page and the validate stage ----------------------------------------------


def kinds_of(user: User, with_passkeys: bool = False) -> frozenset[str]:
    """Which kinds of authenticator the user can sign in with now (one query): the codes they
    can type, and with `with_passkeys` whether they have a passkey too."""
    statement = _kinds_statement(with_passkeys)
    has_totp, has_codes, has_passkeys = db.session.execute(statement, {"owner": user.id}).one()
    found = ((TOTP, has_totp), (RECOVERY_CODES, has_codes), (WEBAUTHN, has_passkeys))
    return frozenset(kind for kind, has in found if has)


@functools.cache
def _kinds_statement(with_passkeys: bool):
    owner = bindparam("owner")
    return select(
        select(TotpDevice.id).where(TotpDevice.user_id == owner).exists(),
        select(StaticCode.id)
        .where(StaticCode.user_id == owner, StaticCode.used_at.is_(None))
        .exists(),
        select(WebAuthnDevice.id).where(WebAuthnDevice.user_id == owner).exists()
        if with_passkeys
        else literal(False),
    )


def verify_code(user: User, code: str) -> str | None:
    """How the user proved themselves ("totp" or "recovery_code") with a code that is good
    now and never again; None when it is not good."""
    code = normalize_code(code)
    if (code.isascii() and code.isdigit()) and use_totp_code(user, code) is not None:
        return "totp"
    if use_recovery_code(user, code):
        return "recovery_code"
    return None


def list_authenticators(user: User) -> list[Authenticator]:
    """The user's TOTP devices, their passkeys, then their recovery codes as one entry (if
    any are left), read in one statement: the account page shows them on every visit."""
    rows = db.session.execute(_authenticators_statement(), {"owner": user.id}).all()
    rows.sort(key=lambda row: (row.rank, row.created_at, row.id))
    found = [_authenticator_line(row) for row in rows if row.rank < 2]
    codes = [row for row in rows if row.rank == 2]
    unused = [code for code in codes if code.last_used_at is None]
    if unused:
        found.append(
            Authenticator(
                RECOVERY_CODES,
                0,
                _("Recovery codes"),
                min(code.created_at for code in unused),
                max((code.last_used_at for code in codes if code.last_used_at), default=None),
                detail=ngettext("%(num)d left", "%(num)d left", len(unused)),
            )
        )
    return found


@functools.cache
def _authenticators_statement():
    owner = bindparam("owner")
    return union_all(
        select(
            literal_column("0").label("rank"),
            TotpDevice.id,
            TotpDevice.name,
            TotpDevice.created_at,
            TotpDevice.last_used_at,
            false().label("synced"),
        ).where(TotpDevice.user_id == owner),
        select(
            literal_column("1"),
            WebAuthnDevice.id,
            WebAuthnDevice.name,
            WebAuthnDevice.created_at,
            WebAuthnDevice.last_used_at,
            WebAuthnDevice.backup_state,
        ).where(WebAuthnDevice.user_id == owner),
        select(
            literal_column("2"),
            StaticCode.id,
            null(),
            StaticCode.created_at,
            StaticCode.used_at,
            false(),
        ).where(StaticCode.user_id == owner),
    )


def _authenticator_line(row) -> Authenticator:
    if row.rank == 0:
        return Authenticator(TOTP, row.id, translated(row.name), row.created_at, row.last_used_at)
    return Authenticator(
        WEBAUTHN,
        row.id,
        row.name,
        row.created_at,
        row.last_used_at,
        detail=_("passkey, synced") if row.synced else _("passkey"),
    )


def remove_authenticator(user: User, kind: str, authenticator_id: int) -> bool:
    """Remove one of the user's own authenticators (recovery codes: all of them, id 0).
    False when there was nothing of theirs to remove."""
    if kind == TOTP:
        statement = delete(TotpDevice).where(
            TotpDevice.user_id == user.id, TotpDevice.id == authenticator_id
        )
    elif kind == RECOVERY_CODES:
        statement = delete(StaticCode).where(StaticCode.user_id == user.id)
    elif kind == WEBAUTHN:
        statement = delete(WebAuthnDevice).where(
            WebAuthnDevice.user_id == user.id, WebAuthnDevice.id == authenticator_id
        )
    else:
        return False
    result = db.session.execute(statement.execution_options(synchronize_session=False))
    return result.rowcount > 0
