"""Client ids and secrets. A secret is 256 random bits, so a plain SHA-256 keeps it safe at
rest (a slow hash protects guessable passwords, not random keys)."""

import hashlib
import hmac
import secrets

PREFIX = "sha256$"


def new_client_id() -> str:
    return secrets.token_urlsafe(30)


def new_client_secret() -> str:
    return secrets.token_urlsafe(48)


def hash_secret(secret: str) -> str:
    return PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def check_secret(stored: str | None, given: str | None) -> bool:
    if not stored or not given or not stored.startswith(PREFIX):
        return False
    return hmac.compare_digest(stored, hash_secret(given))
