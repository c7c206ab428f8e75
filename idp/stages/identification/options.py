from dataclasses import dataclass
from typing import Literal

from idp.core.i18n import N_
from idp.core.options import OptionsError, option, words


@dataclass(frozen=True)
class IdentificationOptions:
    user_fields: tuple[Literal["username", "email"], ...] = option(
        ("username", "email"),
        N_("What the visitor may type to say who they are (at least one)."),
        choices={"username": N_("Username"), "email": N_("Email address")},
    )
    enrollment_flow: str = option(
        "",
        N_(
            'The slug of a sign-up flow, offered as a "Create an account" link under the form '
            "(while sign-up is open). Empty: no link."
        ),
    )
    recovery_flow: str = option(
        "",
        N_(
            'The slug of a recovery flow, offered as a "Forgot your password?" link under the '
            "form. Empty: no link."
        ),
    )
    # A password given there is checked here, as the password stage checks it; a form sent
    # without one only identifies, and the flow's password stage asks for it.
    password_field: bool = option(
        False,
        N_(
            "Also asks for the password on the same page (one page instead of two). A password "
            "stage that follows is then passed by."
        ),
    )
    # A discoverable passkey that verifies its user (PIN, biometrics) proves who signs in.
    passkey_login: bool = option(
        False,
        N_(
            "Offers sign-in with a passkey (needs IDP_BASE_URL on a domain name). The "
            "password and second-factor stages are then passed by for that user. If you "
            "make a flow that signs in with passkeys only, a user who loses their passkeys "
            "has no way in but your recovery flow or an administrator: keep a recovery "
            "flow, and let users keep a second passkey or recovery codes."
        ),
    )
    submit_label: str = words(
        help_text=N_("The button. Empty: “Sign in” with the password field, else “Continue”."),
        max_length=100,
    )

    def validate(self):
        if not self.user_fields:
            raise OptionsError("user_fields", N_("needs at least one of username, email"))
        if len(set(self.user_fields)) != len(self.user_fields):
            raise OptionsError("user_fields", N_("names a field twice"))
