from idp.core.i18n import N_
from idp.flows.outcomes import Deny
from idp.stages.base import StageType
from idp.stages.deny.authentik import AUTHENTIK
from idp.stages.deny.options import DenyOptions


class DenyStage(StageType):
    """Ends the flow with a message; usually gated by policies."""

    name = "deny"
    label = N_("Deny")
    description = N_("Stops the flow and shows a message.")
    Options = DenyOptions
    authentik = AUTHENTIK

    def submit(self, ctx, form):
        return Deny(ctx.options.message)
