import re
from dataclasses import dataclass
from typing import Literal

from idp.core.options import OptionsError
from idp.credentials.passkeys import RegistrationSettings

AAGUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@dataclass(frozen=True)
class AuthenticatorWebAuthnOptions:
    # A discoverable credential (a passkey) can sign in without a typed name; "required"
    # rules out security keys that cannot store one.
    resident_key: Literal["discouraged", "preferred", "required"] = "preferred"
    # "required": the authenticator must check a PIN or fingerprint, not only a touch.
    user_verification: Literal["discouraged", "preferred", "required"] = "preferred"
    # platform: built into the device (Touch ID, Windows Hello); cross-platform: a security
    # key or a phone; empty: either.
    authenticator_attachment: Literal["", "platform", "cross-platform"] = ""
    # For organisations that hand out security keys: only these models (AAGUIDs) may be
    # registered, and attestation is asked for. Empty: any authenticator, no attestation.
    allowed_aaguids: tuple[str, ...] = ()

    def validate(self):
        for aaguid in self.allowed_aaguids:
            if not AAGUID.match(aaguid):
                raise OptionsError(
                    "allowed_aaguids",
                    f"{aaguid!r} is not an AAGUID (lower-case, like "
                    "cb69481e-8ff7-4039-93ec-0a2729a154a8)",
                )

    @property
    def settings(self) -> RegistrationSettings:
        return RegistrationSettings(
            resident_key=self.resident_key,
            user_verification=self.user_verification,
            authenticator_attachment=self.authenticator_attachment,
            allowed_aaguids=self.allowed_aaguids,
        )
