from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import OptionsError, option

MAX_MESSAGE_LENGTH = 500


@dataclass(frozen=True)
class UserDeleteOptions:
    done_message: str = option(
        "Your account was deleted.",
        N_("Shown on the next page, once the account and its sessions are gone."),
    )

    def validate(self):
        if len(self.done_message) > MAX_MESSAGE_LENGTH:
            raise OptionsError(
                "done_message",
                N_("must be at most %(max_message_length)s characters"),
                max_message_length=MAX_MESSAGE_LENGTH,
            )
