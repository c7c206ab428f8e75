from dataclasses import dataclass
from typing import Literal

from idp.core.options import done_message


@dataclass(frozen=True)
class UserWriteOptions:
    user_creation_mode: Literal["never", "when_required", "always"] = "when_required"
    create_users_as_inactive: bool = False
    create_users_as_superuser: bool = False
    create_users_group: str = ""
    # "Your password was changed.": what was written depends on the flow, so no default.
    done_message: str = done_message()
