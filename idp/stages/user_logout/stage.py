from idp.core.events import record_event
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.flows.outcomes import Advance, EndSession
from idp.stages.base import StageType
from idp.stages.user_logout.authentik import AUTHENTIK
from idp.stages.user_logout.options import UserLogoutOptions


class UserLogoutStage(StageType):
    """Ends this browser's session; the session row is revoked, not just forgotten."""

    name = "user_logout"
    label = N_("User logout")
    authentik = AUTHENTIK
    Options = UserLogoutOptions
    description = N_("Signs the user out of this browser.")
    confirm_label = "Sign out"

    def submit(self, ctx, form):
        if ctx.current_user is not None:
            record_event("logout", user=ctx.current_user, ip=client_ip(), flow_slug=ctx.flow.slug)
        # Said only to someone who was signed in.
        notice = ctx.options.done_message if ctx.current_user is not None else ""
        return Advance(session=EndSession(), notice=notice)
