from dataclasses import dataclass
from typing import Literal

from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.credentials.authenticators import BRANDED_ISSUER, TotpSettings, validate_issuer


@dataclass(frozen=True)
class AuthenticatorValidateOptions:
    not_configured_action: Literal["skip", "deny", "configure"] = option(
        "skip",
        N_(
            "What happens to a user who has no authenticator of the accepted kinds. Skip lets "
            "them through with their password alone; deny stops the flow; configure has them set "
            "up an authenticator app on the spot, and then goes on."
        ),
        choices={
            "skip": N_("Skip: let them go on without a second factor"),
            "deny": N_("Deny: stop the flow, they cannot go on"),
            "configure": N_("Configure: have them set up an authenticator app now"),
        },
    )
    issuer: str = option(
        BRANDED_ISSUER,
        N_(
            "The name the authenticator app shows above the code, for apps set up here (only "
            "used when users without an authenticator are asked to configure one). "
            "{product_name} stands for the brand's product name."
        ),
    )
    device_classes: tuple[Literal["totp", "static", "webauthn"], ...] = option(
        ("totp", "static", "webauthn"),
        N_(
            "The kinds of authenticator accepted here (at least one). A user with several "
            "chooses among theirs."
        ),
        choices={
            "totp": N_("Authenticator apps (codes)"),
            "static": N_("Recovery codes"),
            "webauthn": N_("Passkeys and security keys"),
        },
    )
    webauthn_user_verification: Literal["discouraged", "preferred", "required"] = option(
        "preferred",
        N_(
            "Whether a passkey must check its user (a PIN, a fingerprint) rather than only a touch."
        ),
        choices={
            "discouraged": N_("Discouraged: a touch is enough"),
            "preferred": N_("Preferred: check the user when the passkey can"),
            "required": N_("Required: a passkey counts only when it checked the user"),
        },
    )

    def validate(self):
        validate_issuer(self.issuer)
        if not self.device_classes:
            raise OptionsError("device_classes", N_("needs at least one of totp, static, webauthn"))

    @property
    def settings(self) -> TotpSettings:
        return TotpSettings(issuer=self.issuer)
