from dataclasses import dataclass
from typing import Literal

from idp.core.options import OptionsError, option
from idp.credentials.authenticators import BRANDED_ISSUER, TotpSettings, validate_issuer


@dataclass(frozen=True)
class AuthenticatorValidateOptions:
    not_configured_action: Literal["skip", "deny", "configure"] = option(
        "skip",
        "What happens to a user who has no authenticator of the accepted kinds. Skip lets "
        "them through with their password alone; deny stops the flow; configure has them set "
        "up an authenticator app on the spot, and then goes on.",
        choices={
            "skip": "Skip: let them go on without a second factor",
            "deny": "Deny: stop the flow, they cannot go on",
            "configure": "Configure: have them set up an authenticator app now",
        },
    )
    issuer: str = option(
        BRANDED_ISSUER,
        "The name the authenticator app shows above the code, for apps set up here (only "
        "used when users without an authenticator are asked to configure one). "
        "{product_name} stands for the brand's product name.",
    )
    device_classes: tuple[Literal["totp", "static", "webauthn"], ...] = option(
        ("totp", "static", "webauthn"),
        "The kinds of authenticator accepted here (at least one). A user with several "
        "chooses among theirs.",
        choices={
            "totp": "Authenticator apps (codes)",
            "static": "Recovery codes",
            "webauthn": "Passkeys and security keys",
        },
    )
    webauthn_user_verification: Literal["discouraged", "preferred", "required"] = option(
        "preferred",
        "Whether a passkey must check its user (a PIN, a fingerprint) rather than only a touch.",
        choices={
            "discouraged": "Discouraged: a touch is enough",
            "preferred": "Preferred: check the user when the passkey can",
            "required": "Required: a passkey counts only when it checked the user",
        },
    )

    def validate(self):
        validate_issuer(self.issuer)
        if not self.device_classes:
            raise OptionsError("device_classes", "needs at least one of totp, static, webauthn")

    @property
    def settings(self) -> TotpSettings:
        return TotpSettings(issuer=self.issuer)
