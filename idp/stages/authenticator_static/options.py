from dataclasses import dataclass

from idp.core.options import OptionsError


@dataclass(frozen=True)
class AuthenticatorStaticOptions:
    codes_count: int = 10

    def validate(self):
        if not 1 <= self.codes_count <= 50:
            raise OptionsError("codes_count", "must be between 1 and 50")
