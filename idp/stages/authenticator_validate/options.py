from dataclasses import dataclass
from typing import Literal

from idp.authenticators import TotpSettings, validate_issuer


@dataclass(frozen=True)
class AuthenticatorValidateOptions:
    # A user with no authenticator: let them go on (skip), stop the flow (deny), or have them
    # set up an authenticator app right here before the flow goes on (configure).
    not_configured_action: Literal["skip", "deny", "configure"] = "skip"
    # The name the authenticator app shows, for apps set up here (configure).
    issuer: str = "Gatehouse"

    def validate(self):
        validate_issuer(self.issuer)

    @property
    def settings(self) -> TotpSettings:
        return TotpSettings(issuer=self.issuer)
