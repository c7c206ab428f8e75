import json
from urllib.parse import quote

from idp.core.events import record_event
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.core.sealing import SealBroken, seal, unseal
from idp.credentials import authenticators, reauthentication
from idp.flows import once
from idp.flows.context import NEW_RECOVERY_CODES
from idp.flows.outcomes import Advance, Deny, Stay
from idp.stages.authenticator_static.authentik import AUTHENTIK
from idp.stages.authenticator_static.forms import CodesSavedForm
from idp.stages.authenticator_static.options import AuthenticatorStaticOptions
from idp.stages.base import StageType

CODES_MADE = "recovery_codes"


class AuthenticatorStaticStage(StageType):
    """Makes new recovery codes for the user the flow is about and shows them once.

    They are stored (hashed) as soon as they are made, so what the page shows always works;
    until the user says they are saved they wait sealed in the plan context, then are dropped.
    """

    name = "authenticator_static"
    label = N_("Recovery codes setup")
    description = N_(
        "Makes one-time recovery codes, replacing unused old ones, and shows them once."
    )
    Options = AuthenticatorStaticOptions
    authentik = AUTHENTIK
    form_class = CodesSavedForm
    confirm_label = "I have saved them"

    def build_form(self, ctx):
        if reauthentication.is_required(ctx):
            return reauthentication.ReauthenticateForm()
        return CodesSavedForm()

    def on_reach(self, ctx):
        user = _user_of(ctx)
        if user is None or _codes_of(ctx) or reauthentication.is_required(ctx):
            return None
        return {NEW_RECOVERY_CODES: self._new_codes(ctx, user)}

    def render(self, ctx) -> dict:
        if reauthentication.is_required(ctx):
            return reauthentication.page(ctx)
        codes = _codes_of(ctx)
        user = _user_of(ctx)
        return {
            "codes": codes,
            "codes_file_url": _codes_file_url(codes, user.username if user else ""),
        }

    def submit(self, ctx, form):
        user = _user_of(ctx)
        if user is None:
            return Deny(N_("Please sign in first."))
        if reauthentication.is_required(ctx):
            refusal = reauthentication.confirm(ctx, form)
            if refusal is not None:
                return refusal
            sealed = self._new_codes(ctx, user)
            return Stay(N_("Here are your new recovery codes."), {NEW_RECOVERY_CODES: sealed})
        if not _codes_of(ctx):
            # Reached from another site, so on_reach waited for this click.
            sealed = self._new_codes(ctx, user)
            return Stay(N_("Here are your new recovery codes."), {NEW_RECOVERY_CODES: sealed})
        return Advance({NEW_RECOVERY_CODES: None}, notice=ctx.options.done_message)

    @staticmethod
    def _new_codes(ctx, user) -> dict:
        # Once per plan: a replayed cookie from before the codes were made would otherwise
        # replace the codes the user saved with ones only the replayer has seen.
        once.claim_or_stop(ctx, CODES_MADE)
        codes = authenticators.replace_recovery_codes(user, ctx.options.codes_count)
        record_event(
            "authenticator_added",
            user=user,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            kind=authenticators.RECOVERY_CODES,
            count=len(codes),
        )
        reauthentication.notify_added(user, authenticators.RECOVERY_CODES)
        return seal(json.dumps(codes))


def _user_of(ctx):
    """The proved pending user (the signed-in user, in a setup flow)."""
    return ctx.proved_user


def _codes_file_url(codes: list[str], username: str) -> str:
    """The codes as a text file to save, in a data: link: it works without JavaScript, the
    GET changes nothing, and it holds only what the page shows. No URL of ours serves the
    codes, so they cannot be fetched again once this showing is over."""
    if not codes:
        return ""
    lines = [f"Gatehouse recovery codes for {username}", "Each code signs you in once.", ""]
    return "data:text/plain;charset=utf-8," + quote("\n".join([*lines, *codes, ""]))


def _codes_of(ctx) -> list[str]:
    sealed = ctx.data.get(NEW_RECOVERY_CODES)
    if sealed is None:
        return []
    try:
        return json.loads(unseal(sealed))
    except (SealBroken, ValueError):
        return []
