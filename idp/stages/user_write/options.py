from dataclasses import dataclass
from typing import Literal

from idp.core.i18n import N_
from idp.core.options import done_message, option


@dataclass(frozen=True)
class UserWriteOptions:
    user_creation_mode: Literal["never", "when_required", "always"] = option(
        "when_required",
        N_("Whether this stage makes a new account or changes the user the flow is about."),
        choices={
            "never": N_("Never: only change the user the flow is about"),
            "when_required": N_("When required: make an account when the flow has no user"),
            "always": N_("Always: make a new account"),
        },
    )
    create_users_as_inactive: bool = option(
        False,
        N_(
            "New accounts cannot sign in until activated (by an email stage's link, or by an "
            "administrator)."
        ),
    )
    create_users_as_superuser: bool = option(
        False, N_("New accounts are administrators. Only for the initial setup flow.")
    )
    create_users_group: str = option("", N_("The name of a group new accounts join. Empty: none."))
    done_message: str = done_message()
