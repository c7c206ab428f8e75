"""Authenticated encryption for the few values a plan must carry but nobody may read.

The key is derived from the secret key, so every process sharing IDP_SECRET_KEY can open
what another sealed.
"""

import base64

from flask import current_app

SEALED = "sealed"


class SealBroken(ValueError):
    pass


def _fernet():
    # cryptography is imported on first use: every flow reads is_sealed, few seal anything.
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"gatehouse plan sealing"
    ).derive(current_app.config["SECRET_KEY"].encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(value: str) -> dict:
    return {SEALED: _fernet().encrypt(value.encode()).decode("ascii")}


def is_sealed(value) -> bool:
    return isinstance(value, dict) and set(value) == {SEALED}


def unseal(value: dict, max_age: int | None = None) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet().decrypt(value[SEALED].encode("ascii"), ttl=max_age).decode()
    except (InvalidToken, KeyError, TypeError, AttributeError):
        raise SealBroken("a sealed value could not be opened") from None
