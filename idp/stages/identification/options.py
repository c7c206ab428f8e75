from dataclasses import dataclass
from typing import Literal

from idp.options import OptionsError


@dataclass(frozen=True)
class IdentificationOptions:
    user_fields: tuple[Literal["username", "email"], ...] = ("username", "email")
    # Slugs of flows offered as links under the form ("Create an account", "Forgot …?").
    enrollment_flow: str = ""
    recovery_flow: str = ""
    # The form also asks for the password (one page instead of two). A password given there
    # is checked here, as the password stage checks it, and a password stage that follows
    # is passed by; a form sent without one only identifies, and the flow's password stage
    # asks for it.
    password_field: bool = False

    def validate(self):
        if not self.user_fields:
            raise OptionsError("user_fields", "needs at least one of username, email")
        if len(set(self.user_fields)) != len(self.user_fields):
            raise OptionsError("user_fields", "names a field twice")
