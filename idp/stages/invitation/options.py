from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import option


@dataclass(frozen=True)
class InvitationOptions:
    continue_flow_without_invitation: bool = option(
        False,
        N_(
            "Lets visitors without an invitation link go on as if there were none. Unticked, "
            "the flow stops for them: only invited people get through."
        ),
    )
