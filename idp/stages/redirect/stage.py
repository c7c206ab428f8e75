from sqlalchemy import select

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.flows.outcomes import Deny, Redirect
from idp.models import Flow
from idp.stages.base import StageType
from idp.stages.redirect.authentik import AUTHENTIK
from idp.stages.redirect.options import RedirectOptions


class RedirectStage(StageType):
    """Sends the visitor away when reached: to an address, or into another flow (with what
    this flow gathered, and the same `next`). The rest of this flow does not run."""

    name = "redirect"
    label = N_("Redirect")
    description = N_("Sends the visitor to an address or into another flow.")
    Options = RedirectOptions
    authentik = AUTHENTIK

    def submit(self, ctx, form):
        options = ctx.options
        if options.mode == "static":
            return Redirect(url=options.target_url)
        if options.target_flow == ctx.flow.slug:
            return Deny("This step sends you back into the same flow. Tell an administrator.")
        exists = db.session.scalar(select(Flow.id).where(Flow.slug == options.target_flow))
        if exists is None:
            return Deny("This step sends you to a flow that does not exist. Tell an administrator.")
        context = dict(ctx.data) if options.keep_context else {}
        return Redirect(flow_slug=options.target_flow, context=context)
