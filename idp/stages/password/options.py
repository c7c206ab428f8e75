from dataclasses import dataclass, field

from idp.options import OptionsError

MAX_WORDS_LENGTH = 200


def _words(help_text: str):
    return field(default="", metadata={"help": help_text})


@dataclass(frozen=True)
class PasswordOptions:
    # The words fit where the stage is used: signing in, confirming a change, deleting an
    # account. Empty: the words for the flow's purpose (see idp.stages.password.words).
    heading: str = _words(
        "A sentence above the password field, such as “Enter your current password”. Empty: none."
    )
    password_label: str = _words("The field's label. Empty: “Password”.")
    submit_label: str = _words(
        "The button. Empty: “Sign in” when signing in, “Delete my account” in an "
        "unenrollment flow, “Confirm” for a signed-in user elsewhere."
    )
    failure_message: str = _words(
        "Shown for a wrong password. Empty: “Invalid username or password.” when signing in "
        "(it must not tell whether the name exists), “Wrong password.” for a signed-in user."
    )

    def validate(self):
        for name in ("heading", "password_label", "submit_label", "failure_message"):
            if len(getattr(self, name)) > MAX_WORDS_LENGTH:
                raise OptionsError(name, f"must be at most {MAX_WORDS_LENGTH} characters")
