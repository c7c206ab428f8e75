import json

from idp import authenticators
from idp.events import record_event
from idp.flows.context import NEW_RECOVERY_CODES
from idp.flows.outcomes import Advance, Deny, Stay
from idp.network import client_ip
from idp.sealing import SealBroken, seal, unseal
from idp.stages.authenticator_static.authentik import AUTHENTIK
from idp.stages.authenticator_static.forms import CodesSavedForm
from idp.stages.authenticator_static.options import AuthenticatorStaticOptions
from idp.stages.base import StageType


class AuthenticatorStaticStage(StageType):
    """Makes new recovery codes for the user the flow is about and shows them once.

    They are stored (hashed) as soon as they are made, so what the page shows always works;
    until the user says they are saved they wait sealed in the plan context, then are dropped.
    """

    name = "authenticator_static"
    label = "Recovery codes setup"
    description = "Makes one-time recovery codes, replacing unused old ones, and shows them once."
    Options = AuthenticatorStaticOptions
    authentik = AUTHENTIK
    form_class = CodesSavedForm
    confirm_label = "I have saved them"

    def on_reach(self, ctx):
        user = _user_of(ctx)
        if user is None or _codes_of(ctx):
            return None
        return {NEW_RECOVERY_CODES: self._new_codes(ctx, user)}

    def render(self, ctx) -> dict:
        return {"codes": _codes_of(ctx)}

    def submit(self, ctx, form):
        user = _user_of(ctx)
        if user is None:
            return Deny("Please sign in first.")
        if not _codes_of(ctx):
            # Reached from another site, so on_reach waited for this click.
            sealed = self._new_codes(ctx, user)
            return Stay("Here are your new recovery codes.", {NEW_RECOVERY_CODES: sealed})
        return Advance({NEW_RECOVERY_CODES: None})

    @staticmethod
    def _new_codes(ctx, user) -> dict:
        codes = authenticators.replace_recovery_codes(user, ctx.options.codes_count)
        record_event(
            "authenticator_added",
            user=user,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            kind=authenticators.RECOVERY_CODES,
            count=len(codes),
        )
        return seal(json.dumps(codes))


def _user_of(ctx):
    """The proved pending user (the signed-in user, in a setup flow)."""
    return ctx.proved_user


def _codes_of(ctx) -> list[str]:
    sealed = ctx.data.get(NEW_RECOVERY_CODES)
    if sealed is None:
        return []
    try:
        return json.loads(unseal(sealed))
    except (SealBroken, ValueError):
        return []
