from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import OptionsError, done_message, option


@dataclass(frozen=True)
class AuthenticatorStaticOptions:
    codes_count: int = option(
        10,
        N_(
            "How many recovery codes the user gets (1 to 50). Each code signs in once; making new "
            "codes replaces the old ones."
        ),
    )
    done_message: str = done_message("Your recovery codes are ready. Each one signs you in once.")

    def validate(self):
        if not 1 <= self.codes_count <= 50:
            raise OptionsError("codes_count", N_("must be between 1 and 50"))
