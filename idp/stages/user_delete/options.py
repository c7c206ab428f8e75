from dataclasses import dataclass

from idp.core.options import OptionsError

MAX_MESSAGE_LENGTH = 500


@dataclass(frozen=True)
class UserDeleteOptions:
    # Shown on the next page, once the account and its sessions are gone.
    done_message: str = "Your account was deleted."

    def validate(self):
        if len(self.done_message) > MAX_MESSAGE_LENGTH:
            raise OptionsError("done_message", f"must be at most {MAX_MESSAGE_LENGTH} characters")
