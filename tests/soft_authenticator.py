"""A software passkey for HTTP tests: it answers the options a page offers as a browser and
an authenticator would, so py_webauthn's own checks run on real signed answers. CBOR is
written by cbor2 and signatures made by cryptography; nothing here checks anything."""

import hashlib
import json
import re
import secrets
import struct
from dataclasses import dataclass, field
from html import unescape

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def options_on(page: str) -> dict:
    """The WebAuthn options a page hands to webauthn.js."""
    match = re.search(r'data-webauthn-options="([^"]+)"', page)
    assert match, "no passkey options on the page"
    return json.loads(unescape(match.group(1)))


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost"
    rp_id: str = "localhost"
    user_verified: bool = True
    sign_count: int = 0
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    user_handle: bytes | None = None
    aaguid: bytes = bytes(16)

    def _flags(self, extra: int) -> int:
        return UP | (UV if self.user_verified else 0) | BE | BS | extra

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        data = {"type": kind, "challenge": challenge, "origin": origin or self.origin}
        return json.dumps({**data, "crossOrigin": False}).encode()

    def create(self, options: dict, origin: str | None = None, rp_id: str | None = None) -> str:
        """The JSON webauthn.js would post after navigator.credentials.create()."""
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        numbers = self.key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )
        attested = self.aaguid + struct.pack(">H", len(self.credential_id)) + self.credential_id
        authenticator_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([self._flags(AT)])
            + struct.pack(">I", self.sign_count)
            + attested
            + cose_key
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": authenticator_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "attestationObject": bytes_to_base64url(attestation),
                    "transports": ["internal"],
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )

    def get(
        self,
        options: dict,
        origin: str | None = None,
        rp_id: str | None = None,
        sign_count: int | None = None,
    ) -> str:
        """The JSON webauthn.js would post after navigator.credentials.get(); the counter
        goes up by one unless `sign_count` says what to report."""
        self.sign_count = self.sign_count + 1 if sign_count is None else sign_count
        authenticator_data = (
            hashlib.sha256((rp_id or self.rp_id).encode()).digest()
            + bytes([self._flags(0)])
            + struct.pack(">I", self.sign_count)
        )
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signed = authenticator_data + hashlib.sha256(client_data).digest()
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        return json.dumps(
            {
                "id": bytes_to_base64url(self.credential_id),
                "rawId": bytes_to_base64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": bytes_to_base64url(client_data),
                    "authenticatorData": bytes_to_base64url(authenticator_data),
                    "signature": bytes_to_base64url(signature),
                    "userHandle": bytes_to_base64url(self.user_handle)
                    if self.user_handle
                    else None,
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )
