from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import words

MAX_WORDS_LENGTH = 200


@dataclass(frozen=True)
class PasswordOptions:
    # The words fit where the stage is used: signing in, confirming a change, deleting an
    # account. Empty: the words for the flow's purpose (see idp.stages.password.words).
    heading: str = words(
        help_text=N_(
            "A sentence above the password field, such as “Enter your current "
            "password”. Empty: none."
        ),
        max_length=MAX_WORDS_LENGTH,
    )
    password_label: str = words(
        help_text=N_("The field's label. Empty: “Password”."), max_length=MAX_WORDS_LENGTH
    )
    submit_label: str = words(
        help_text=N_(
            "The button. Empty: “Sign in” when signing in, “Delete my account” in an "
            "unenrollment flow, “Confirm” for a signed-in user elsewhere."
        ),
        max_length=MAX_WORDS_LENGTH,
    )
    failure_message: str = words(
        help_text=N_(
            "Shown for a wrong password. Empty: “Invalid username or password.” when "
            "signing in (it must not tell whether the name exists), “Wrong password.” for a "
            "signed-in user."
        ),
        max_length=MAX_WORDS_LENGTH,
    )
