"""Signing keys: generated with joserfc, stored sealed, each with its own kid.

A rotation publishes the next key before it signs: every algorithm keeps one current key
(signing) and one next key (published only). `rotate` makes the next key current, retires the
old one (still published until the longest token it signed has expired) and makes a new next
key. Clients that cache the JWKS thus already know a key when it starts signing.
"""

import json
import secrets
from datetime import timedelta

from joserfc.jwk import ECKey, RSAKey, import_key
from sqlalchemy import or_, select

from idp.core.database import hold_until_commit
from idp.core.extensions import db
from idp.core.sealing import seal, unseal
from idp.flows.revision import kept_apart
from idp.models import SigningKey
from idp.models.types import utcnow
from idp.providers.oauth2.options import MAX_LIFETIMES

ALGORITHMS = ("ES256", "RS256")
KEPT_KEY = "gatehouse.signing_keys"
KEYS_LOCK_KEY = 7_154_620_012  # names the advisory lock of ensure_keys on PostgreSQL
# A retired key stays published this long: no token it signed lives longer.
LONGEST_TOKEN_LIFETIME = timedelta(seconds=MAX_LIFETIMES["access_token_lifetime"])

# Opened private keys by kid. A key never changes once made, so this holds no state that
# could go stale; it only spares the decryption on every token.
_opened: dict[str, object] = {}


def _generate(algorithm: str) -> SigningKey:
    kid = f"{algorithm.lower()}-{utcnow():%Y%m%d}-{secrets.token_hex(6)}"
    parameters = {"kid": kid, "alg": algorithm, "use": "sig"}
    if algorithm == "ES256":
        key = ECKey.generate_key("P-256", parameters=parameters, private=True)
    else:
        key = RSAKey.generate_key(2048, parameters=parameters, private=True)
    return SigningKey(
        kid=kid,
        algorithm=algorithm,
        sealed_private_key=seal(json.dumps(key.as_dict(private=True)))["sealed"],
        public_jwk=key.as_dict(private=False),
        created_at=utcnow(),
    )


def _keys_of(algorithm: str) -> list[SigningKey]:
    return list(
        db.session.scalars(
            select(SigningKey)
            .where(SigningKey.algorithm == algorithm, SigningKey.retired_at.is_(None))
            .order_by(SigningKey.id)
        )
    )


def ensure_keys(algorithm: str) -> None:
    """A current and a next key for `algorithm` (flushed), where they are missing. Two
    applications saved at once must not each make a current key: the check and the write
    hold a lock until the commit."""
    hold_until_commit(db.session, KEYS_LOCK_KEY)
    keys = _keys_of(algorithm)
    now = utcnow()
    if not any(key.signs_from is not None for key in keys):
        first = keys[0] if keys else _generate(algorithm)
        first.signs_from = now
        db.session.add(first)
        keys = [first, *keys[1:]]
    if not any(key.signs_from is None for key in keys):
        db.session.add(_generate(algorithm))
    db.session.flush()


def has_keys(algorithm: str) -> bool:
    """Whether `algorithm` has keys: they are made when an application that signs with it is
    saved."""
    return bool(_keys_of(algorithm))


def rotate(algorithm: str) -> tuple[str, str]:
    """The next key starts signing, the current one retires; returns (new current, new next).
    An algorithm without keys gets its first two, and nothing it never signed with retires."""
    if not has_keys(algorithm):
        ensure_keys(algorithm)
        current, upcoming = _keys_of(algorithm)
        return current.kid, upcoming.kid
    ensure_keys(algorithm)
    now = utcnow()
    keys = _keys_of(algorithm)
    for key in keys:
        if key.signs_from is not None:
            key.retired_at = now
            key.published_until = now + LONGEST_TOKEN_LIFETIME
    promoted = next(key for key in keys if key.signs_from is None)
    promoted.signs_from = now
    upcoming = _generate(algorithm)
    db.session.add(upcoming)
    db.session.flush()
    return promoted.kid, upcoming.kid


def signing_key(algorithm: str):
    """The current key of `algorithm` as a joserfc key. The keys are made when an application
    is saved; made here only for a database written without them (by hand, or by a Gatehouse
    older than that, until `idp setup` runs)."""
    key = _current_keys().get(algorithm)
    if key is None:
        ensure_keys(algorithm)
        db.session.commit()  # keys are shared by every later request: keep them now
        key = _load_current(db.session)[algorithm]
    if key.kid not in _opened:
        _opened[key.kid] = import_key(json.loads(unseal({"sealed": key.sealed_private_key})))
    return _opened[key.kid]


def _current_keys() -> dict[str, SigningKey]:
    """The current key of each algorithm, kept in the worker under the flows revision, which
    a rotation changes: the several signatures of a token response read no key."""
    return kept_apart(db.session, KEPT_KEY, _load_current)


def _load_current(session) -> dict[str, SigningKey]:
    current = {}
    for key in session.scalars(
        select(SigningKey)
        .where(SigningKey.signs_from.is_not(None), SigningKey.retired_at.is_(None))
        .order_by(SigningKey.signs_from.desc(), SigningKey.id.desc())
    ):
        current.setdefault(key.algorithm, key)
    return current


def published() -> list[SigningKey]:
    """Every key a client may meet: next, current, and retired ones not yet expired."""
    return list(
        db.session.scalars(
            select(SigningKey)
            .where(or_(SigningKey.retired_at.is_(None), SigningKey.published_until > utcnow()))
            .order_by(SigningKey.id)
        )
    )


def public_key_set() -> dict:
    return {"keys": [dict(key.public_jwk) for key in published()]}


def verification_key(kid: str):
    """The public key with this kid, if it is still published (for tokens Gatehouse made)."""
    for key in published():
        if key.kid == kid:
            return import_key(key.public_jwk)
    return None


def was_retired(kid: str) -> bool:
    """A key Gatehouse made and has since stopped publishing (its tokens all expired)."""
    return (
        db.session.scalar(
            select(SigningKey.id).where(
                SigningKey.kid == kid,
                SigningKey.retired_at.is_not(None),
                SigningKey.published_until <= utcnow(),
            )
        )
        is not None
    )


def state_of(key: SigningKey) -> str:
    if key.retired_at is not None:
        return "retired"
    return "next" if key.signs_from is None else "current"


def verification_key_from_header(token: str):
    """The published public key named by the token's kid (raises ValueError when unknown)."""
    from joserfc import jws

    header = jws.extract_compact(token.encode()).protected
    key = verification_key(str(header.get("kid", "")))
    if key is None:
        raise ValueError("unknown kid")
    return key
