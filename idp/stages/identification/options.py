from dataclasses import dataclass, field
from typing import Literal

from idp.core.options import OptionsError


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
    # A "Sign in with a passkey" button (and passkey autofill in the name field, where the
    # browser has it): a discoverable passkey that verifies its user (PIN, biometrics) proves
    # who signs in, and the flow's password and second-factor stages are passed by.
    passkey_login: bool = field(
        default=False,
        metadata={
            "help": (
                "Offers sign-in with a passkey (needs IDP_BASE_URL on a domain name). The "
                "password and second-factor stages are then passed by for that user. If you "
                "make a flow that signs in with passkeys only, a user who loses their passkeys "
                "has no way in but your recovery flow or an administrator: keep a recovery "
                "flow, and let users keep a second passkey or recovery codes."
            )
        },
    )

    def validate(self):
        if not self.user_fields:
            raise OptionsError("user_fields", "needs at least one of username, email")
        if len(set(self.user_fields)) != len(self.user_fields):
            raise OptionsError("user_fields", "names a field twice")
