from dataclasses import dataclass

from idp.core.options import done_message


@dataclass(frozen=True)
class UserLogoutOptions:
    done_message: str = done_message("You have signed out.")
