from idp.core.events import record_event
from idp.core.network import client_ip
from idp.flows.outcomes import Advance, EndSession
from idp.stages.base import StageType
from idp.stages.user_logout.authentik import AUTHENTIK


class UserLogoutStage(StageType):
    """Ends this browser's session; the session row is revoked, not just forgotten."""

    name = "user_logout"
    label = "User logout"
    authentik = AUTHENTIK
    description = "Signs the user out of this browser."
    confirm_label = "Sign out"

    def submit(self, ctx, form):
        if ctx.current_user is not None:
            record_event("logout", user=ctx.current_user, ip=client_ip(), flow_slug=ctx.flow.slug)
        return Advance(session=EndSession())
