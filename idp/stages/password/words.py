"""What the password stage says, by where it is used: an option set on the stage wins, else
the words for the flow's purpose."""

from dataclasses import dataclass

from idp.core.i18n import N_, translated
from idp.credentials.password_checks import INVALID

WRONG_PASSWORD = N_("Wrong password.")


@dataclass(frozen=True)
class PasswordWords:
    heading: str
    password_label: str
    submit_label: str
    failure_message: str


def words_for(ctx) -> PasswordWords:
    options = ctx.options
    return PasswordWords(
        heading=translated(options.heading),
        password_label=translated(options.password_label or N_("Password")),
        submit_label=translated(options.submit_label or _default_submit_label(ctx)),
        failure_message=translated(options.failure_message or _default_failure_message(ctx)),
    )


def _default_submit_label(ctx) -> str:
    if ctx.flow.designation == "unenrollment":
        return N_("Delete my account")
    if _is_confirming(ctx):
        return N_("Confirm")
    return N_("Sign in")


def _default_failure_message(ctx) -> str:
    # Only a signed-in user may be told it was the password: anyone else must not learn
    # whether the name they typed exists.
    return WRONG_PASSWORD if _is_confirming(ctx) else INVALID


def _is_confirming(ctx) -> bool:
    """A signed-in user proving it is them again (a change, a deletion), not a sign-in."""
    return ctx.current_user is not None and ctx.flow.designation != "authentication"
