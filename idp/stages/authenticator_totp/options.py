from dataclasses import dataclass
from typing import Literal

from idp.core.i18n import N_
from idp.core.options import OptionsError, done_message, option
from idp.credentials.authenticators import BRANDED_ISSUER, TotpSettings, validate_issuer


@dataclass(frozen=True)
class AuthenticatorTotpOptions:
    issuer: str = option(
        BRANDED_ISSUER,
        N_(
            "The name the authenticator app shows above the code. {product_name} stands for the "
            "brand's product name (Settings → Brand)."
        ),
    )
    digits: Literal[6, 8] = option(
        6,
        N_("How long each code is. Most apps show 6 digits; some cannot show 8."),
        choices={6: N_("6 digits (works with every app)"), 8: N_("8 digits")},
    )
    period: int = option(
        30,
        N_(
            "Seconds each code lasts (15 to 120). Most apps only support 30: change it only if "
            "yours says otherwise."
        ),
    )
    done_message: str = done_message(
        "Your authenticator app is set up: signing in asks for a code from it."
    )

    def validate(self):
        validate_issuer(self.issuer)
        if not 15 <= self.period <= 120:
            raise OptionsError("period", N_("must be between 15 and 120 seconds"))

    @property
    def settings(self) -> TotpSettings:
        return TotpSettings(issuer=self.issuer, digits=self.digits, period=self.period)
