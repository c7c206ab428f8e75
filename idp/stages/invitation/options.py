from dataclasses import dataclass


@dataclass(frozen=True)
class InvitationOptions:
    # Without an invitation link: go on as if there were none (true), or stop (false).
    continue_flow_without_invitation: bool = False
