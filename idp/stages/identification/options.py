from dataclasses import dataclass
from typing import Literal

from idp.options import OptionsError


@dataclass(frozen=True)
class IdentificationOptions:
    user_fields: tuple[Literal["username", "email"], ...] = ("username", "email")
    # Slugs of flows offered as links under the form ("Create an account", "Forgot …?").
    enrollment_flow: str = ""
    recovery_flow: str = ""

    def validate(self):
        if not self.user_fields:
            raise OptionsError("user_fields", "needs at least one of username, email")
        if len(set(self.user_fields)) != len(self.user_fields):
            raise OptionsError("user_fields", "names a field twice")
