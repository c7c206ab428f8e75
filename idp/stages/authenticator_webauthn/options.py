import re
from dataclasses import dataclass
from typing import Literal

from idp.core.i18n import N_
from idp.core.options import OptionsError, done_message, option
from idp.credentials.passkeys import RegistrationSettings

AAGUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")


@dataclass(frozen=True)
class AuthenticatorWebAuthnOptions:
    resident_key: Literal["discouraged", "preferred", "required"] = option(
        "preferred",
        N_(
            "Whether the credential is a passkey stored on the authenticator, which can sign in "
            "without a typed name. Required rules out security keys that cannot store one."
        ),
        choices={
            "discouraged": N_("Discouraged: a plain security key credential"),
            "preferred": N_("Preferred: a passkey when the authenticator can store one"),
            "required": N_("Required: only passkeys"),
        },
    )
    user_verification: Literal["discouraged", "preferred", "required"] = option(
        "preferred",
        N_(
            "Whether the authenticator must check its user (a PIN, a fingerprint) rather than only "
            "a touch."
        ),
        choices={
            "discouraged": N_("Discouraged: a touch is enough"),
            "preferred": N_("Preferred: check the user when the authenticator can"),
            "required": N_("Required: the authenticator must check the user"),
        },
    )
    authenticator_attachment: Literal["", "platform", "cross-platform"] = option(
        "",
        N_(
            "Which authenticators may be registered: built into the device (Touch ID, Windows "
            "Hello), separate ones (a security key, a phone), or either."
        ),
        choices={
            "": N_("Either"),
            "platform": N_("Built into the device"),
            "cross-platform": N_("A separate security key or phone"),
        },
    )
    allowed_aaguids: tuple[str, ...] = option(
        (),
        N_(
            "For organisations that hand out security keys: only these models (AAGUIDs, one per "
            "line) may be registered, and attestation is asked for. Empty: any authenticator."
        ),
    )
    done_message: str = done_message("Your passkey was added.")

    def validate(self):
        for aaguid in self.allowed_aaguids:
            if not AAGUID.match(aaguid):
                raise OptionsError(
                    "allowed_aaguids",
                    N_(
                        "%(aaguid)s is not an AAGUID (lower-case, like "
                        "cb69481e-8ff7-4039-93ec-0a2729a154a8)"
                    ),
                    aaguid=repr(aaguid),
                )

    @property
    def settings(self) -> RegistrationSettings:
        return RegistrationSettings(
            resident_key=self.resident_key,
            user_verification=self.user_verification,
            authenticator_attachment=self.authenticator_attachment,
            allowed_aaguids=self.allowed_aaguids,
        )
