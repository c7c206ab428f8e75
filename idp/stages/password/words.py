"""What the password stage says, by where it is used: an option set on the stage wins, else
the words for the flow's purpose."""

from dataclasses import dataclass

from idp.credentials.password_checks import INVALID

WRONG_PASSWORD = "Wrong password."  # noqa: S105 (a message)


@dataclass(frozen=True)
class PasswordWords:
    heading: str
    password_label: str
    submit_label: str
    failure_message: str


def words_for(ctx) -> PasswordWords:
    options = ctx.options
    return PasswordWords(
        heading=options.heading,
        password_label=options.password_label or "Password",
        submit_label=options.submit_label or _default_submit_label(ctx),
        failure_message=options.failure_message or _default_failure_message(ctx),
    )


def _default_submit_label(ctx) -> str:
    if ctx.flow.designation == "unenrollment":
        return "Delete my account"
    if _is_confirming(ctx):
        return "Confirm"
    return "Sign in"


def _default_failure_message(ctx) -> str:
    # Only a signed-in user may be told it was the password: anyone else must not learn
    # whether the name they typed exists.
    return WRONG_PASSWORD if _is_confirming(ctx) else INVALID


def _is_confirming(ctx) -> bool:
    """A signed-in user proving it is them again (a change, a deletion), not a sign-in."""
    return ctx.current_user is not None and ctx.flow.designation != "authentication"
