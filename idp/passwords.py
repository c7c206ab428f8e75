"""Password hashing: bcrypt over a SHA-256 digest, so long passwords are never cut at 72 bytes."""

import base64
import functools
import hashlib
import hmac

import bcrypt
from flask import current_app

SCHEME = "bcrypt-sha256$"
MAX_PASSWORD_LENGTH = 1024


def _prehash(password: str) -> bytes:
    # base64 of the digest: fixed length, no NUL bytes, so bcrypt sees the whole password.
    return base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())


def hash_password(password: str, rounds: int | None = None) -> str:
    rounds = rounds or current_app.config["BCRYPT_ROUNDS"]
    digest = bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds))
    return SCHEME + digest.decode("ascii")


def check_password(password: str, password_hash: str | None) -> bool:
    """Compare in constant time; a missing hash still costs one bcrypt check."""
    if not password_hash or not password_hash.startswith(SCHEME):
        bcrypt.checkpw(_prehash(password), _dummy_hash(current_app.config["BCRYPT_ROUNDS"]))
        return False
    stored = password_hash[len(SCHEME) :].encode("ascii")
    candidate = bcrypt.hashpw(_prehash(password), stored)
    return hmac.compare_digest(candidate, stored)


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"gatehouse-dummy-password", bcrypt.gensalt(rounds))
