"""Password hashing: bcrypt over a SHA-256 digest, so long passwords are never cut at 72 bytes.

Passwords are normalised to Unicode NFKC before they are hashed or checked (NIST SP 800-63B
5.1.1.2): "é" typed as one code point or as "e" plus a combining accent, a full-width A
(U+FF21) from an East Asian keyboard or the ligature "fi" (U+FB01) from a word processor are
the same password as their plain forms, whichever device the user types on.

The stored hash names its scheme in front, so old and new hashes are told apart by the hash
itself (no extra column):

- `bcrypt-sha256-nfkc$<bcrypt hash>`: the current scheme, over the NFKC form.
- `bcrypt-sha256$<bcrypt hash>`: made before normalisation, over the password as typed. It
  still verifies (as typed, as it was made), and `needs_rehash` says to replace it: the
  password stage and the password confirmation store a current hash at the next success.

Both schemes cost one bcrypt check, so the kind of hash an account has does not show in
the time a sign-in takes.
"""

import base64
import functools
import hashlib
import hmac
import unicodedata

import bcrypt
from flask import current_app

SCHEME = "bcrypt-sha256-nfkc$"
# Hashes made before passwords were normalised: checked as typed, replaced at the next success.
LEGACY_SCHEME = "bcrypt-sha256$"
MAX_PASSWORD_LENGTH = 1024


def normalise(password: str) -> str:
    """The form that is hashed: NFKC, nothing else (no trimming, no case folding)."""
    return unicodedata.normalize("NFKC", password)


def _prehash(password: str) -> bytes:
    # base64 of the digest: fixed length, no NUL bytes, so bcrypt sees the whole password.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int | None = None) -> str:
    rounds = rounds or current_app.config["BCRYPT_ROUNDS"]
    digest = bcrypt.hashpw(_prehash(normalise(password)), bcrypt.gensalt(rounds))
    return SCHEME + digest.decode("ascii")


def check_password(password: str, password_hash: str | None) -> bool:
    """Compare in constant time; a missing or unknown hash still costs one bcrypt check."""
    scheme = _scheme_of(password_hash)
    if scheme is None:
        bcrypt.checkpw(_prehash(password), _dummy_hash(current_app.config["BCRYPT_ROUNDS"]))
        return False
    stored = password_hash[len(scheme) :].encode("ascii")
    typed = normalise(password) if scheme == SCHEME else password
    try:
        candidate = bcrypt.hashpw(_prehash(typed), stored)
    except ValueError:  # a damaged hash (an edited row): it matches nothing
        return False
    return hmac.compare_digest(candidate, stored)


def needs_rehash(password_hash: str | None) -> bool:
    """True for a hash of an older scheme, to be replaced once the password was right."""
    return _scheme_of(password_hash) == LEGACY_SCHEME


def _scheme_of(password_hash: str | None) -> str | None:
    if not password_hash:
        return None
    for scheme in (SCHEME, LEGACY_SCHEME):
        if password_hash.startswith(scheme):
            return scheme
    return None


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"gatehouse-dummy-password", bcrypt.gensalt(rounds))
