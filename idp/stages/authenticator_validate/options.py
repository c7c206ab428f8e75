from dataclasses import dataclass
from typing import Literal

from idp.core.options import OptionsError
from idp.credentials.authenticators import TotpSettings, validate_issuer


@dataclass(frozen=True)
class AuthenticatorValidateOptions:
    # A user with no authenticator: let them go on (skip), stop the flow (deny), or have them
    # set up an authenticator app right here before the flow goes on (configure).
    not_configured_action: Literal["skip", "deny", "configure"] = "skip"
    # The name the authenticator app shows, for apps set up here (configure).
    issuer: str = "Gatehouse"
    # Which authenticators are accepted, as authentik names them: totp (apps), static
    # (recovery codes), webauthn (passkeys and security keys). The user chooses among theirs.
    device_classes: tuple[Literal["totp", "static", "webauthn"], ...] = (
        "totp",
        "static",
        "webauthn",
    )
    # "required": a passkey counts only when it checked a PIN or fingerprint, not only a touch.
    webauthn_user_verification: Literal["discouraged", "preferred", "required"] = "preferred"

    def validate(self):
        validate_issuer(self.issuer)
        if not self.device_classes:
            raise OptionsError("device_classes", "needs at least one of totp, static, webauthn")

    @property
    def settings(self) -> TotpSettings:
        return TotpSettings(issuer=self.issuer)
