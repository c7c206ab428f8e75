from flask import request

from idp.core.events import record_event
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.flows.context import INVITATION_ID, PROMPT_DATA
from idp.flows.outcomes import Advance, Deny
from idp.identity import invitations
from idp.stages.base import StageType
from idp.stages.invitation.authentik import AUTHENTIK
from idp.stages.invitation.forms import InvitationForm
from idp.stages.invitation.options import InvitationOptions

NEEDED = N_("You need an invitation to continue. Please open the link from your invitation.")


class InvitationStage(StageType):
    """Lets a visitor in with an invitation link (`?itoken=`) and adds the invitation's fixed
    data to prompt_data. Put it first: the token is read from the address the flow starts at.

    A single-use invitation is used up when this stage is passed, in one atomic UPDATE: this
    is the only stage that knows about invitations, and a token that let someone into the rest
    of the flow has done its job, even if they abandon the flow later."""

    name = "invitation"
    label = N_("Invitation")
    description = N_("Admits visitors who come with an invitation link.")
    Options = InvitationOptions
    authentik = AUTHENTIK
    form_class = InvitationForm
    confirm_label = "Accept invitation"

    def build_form(self, ctx):
        return InvitationForm.from_link()

    def is_satisfied(self, ctx) -> bool:
        return ctx.options.continue_flow_without_invitation and not request.args.get("itoken")

    def render(self, ctx) -> dict:
        token = request.values.get("itoken", "")
        if not token:
            return {"problem": None if ctx.options.continue_flow_without_invitation else NEEDED}
        invitation = invitations.find_invitation(token)
        return {"problem": invitations.problem_with(invitation, ctx.flow.slug, ctx.plan_id)}

    def submit(self, ctx, form):
        token = form.itoken.data or ""
        if not token:
            return Advance() if ctx.options.continue_flow_without_invitation else Deny(NEEDED)
        # A link that does not work is refused even when the flow could go on without one:
        # going on silently would drop what the invitation was meant to fill in.
        invitation = invitations.find_invitation(token)
        problem = invitations.problem_with(invitation, ctx.flow.slug, ctx.plan_id)
        if problem is None and not invitations.use_invitation(invitation, ctx.plan_id):
            problem = invitations.USED  # a parallel request took it first
        if problem is not None:
            record_event(
                "invitation_refused", ip=client_ip(), flow_slug=ctx.flow.slug, reason=problem
            )
            return Deny(problem)
        record_event(
            "invitation_used", ip=client_ip(), flow_slug=ctx.flow.slug, invitation=invitation.id
        )
        prompt_data = {**(ctx.data.get(PROMPT_DATA) or {}), **invitation.fixed_data}
        return Advance({INVITATION_ID: invitation.id, PROMPT_DATA: prompt_data})
