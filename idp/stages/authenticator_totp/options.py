from dataclasses import dataclass
from typing import Literal

from idp.core.options import OptionsError
from idp.credentials.authenticators import TotpSettings, validate_issuer


@dataclass(frozen=True)
class AuthenticatorTotpOptions:
    # The name the authenticator app shows above the code.
    issuer: str = "Gatehouse"
    digits: Literal[6, 8] = 6
    period: int = 30

    def validate(self):
        validate_issuer(self.issuer)
        if not 15 <= self.period <= 120:
            raise OptionsError("period", "must be between 15 and 120 seconds")

    @property
    def settings(self) -> TotpSettings:
        return TotpSettings(issuer=self.issuer, digits=self.digits, period=self.period)
