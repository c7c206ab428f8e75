from idp.core.forms import Form
from idp.core.i18n import N_
from idp.credentials import authenticators, reauthentication
from idp.flows import once
from idp.flows.context import TOTP_SETUP
from idp.flows.outcomes import Advance, Deny, Retry, Stay
from idp.stages.authenticator_totp.authentik import AUTHENTIK
from idp.stages.authenticator_totp.forms import TotpSetupForm
from idp.stages.authenticator_totp.options import AuthenticatorTotpOptions
from idp.stages.base import StageType

DEVICE_SAVED = "totp_device"


class AuthenticatorTotpStage(StageType):
    """Sets up an authenticator app for the user the flow is about.

    The secret is made when the stage is reached and waits sealed in the plan context; the
    device is saved only once a code from the app proves it has the secret."""

    name = "authenticator_totp"
    label = N_("Authenticator app setup")
    description = N_("Shows a QR code for an authenticator app (TOTP) and checks its first code.")
    Options = AuthenticatorTotpOptions
    authentik = AUTHENTIK
    form_class = TotpSetupForm

    def build_form(self, ctx):
        if reauthentication.is_required(ctx):
            return reauthentication.ReauthenticateForm()
        if _secret_of(ctx) is None:
            return Form()  # only a button that makes a secret
        return TotpSetupForm()

    def on_reach(self, ctx):
        if _secret_of(ctx) is not None or _user_of(ctx) is None:
            return None
        if reauthentication.is_required(ctx):
            return None
        return {TOTP_SETUP: authenticators.sealed_new_totp_secret()}

    def render(self, ctx) -> dict:
        if reauthentication.is_required(ctx):
            return reauthentication.page(ctx)
        user, secret = _user_of(ctx), _secret_of(ctx)
        enrolment = None
        if user is not None and secret is not None:
            enrolment = authenticators.totp_enrolment(user, secret, ctx.options.settings)
        return {"enrolment": enrolment, "username": user.username if user else ""}

    def submit(self, ctx, form):
        user, secret = _user_of(ctx), _secret_of(ctx)
        if user is None:
            return Deny(N_("Please sign in first."))
        if reauthentication.is_required(ctx):
            # Asked again even with a secret in the plan: the device is saved only now.
            refusal = reauthentication.confirm(ctx, form)
            if refusal is not None:
                return refusal
            # A secret already scanned (the window ran out meanwhile) is kept.
            kept = ctx.data.get(TOTP_SETUP) if secret is not None else None
            sealed = kept or authenticators.sealed_new_totp_secret()
            return Stay(authenticators.SCAN_NEW_QR_CODE, {TOTP_SETUP: sealed})
        if secret is None:
            # Reached from another site, so on_reach waited for this click.
            new_secret = authenticators.sealed_new_totp_secret()
            return Stay(authenticators.SCAN_NEW_QR_CODE, {TOTP_SETUP: new_secret})
        device = authenticators.finish_totp_enrolment(
            user, secret, ctx.options.settings, form.code.data, ctx.flow.slug
        )
        if device is None:
            return Retry(authenticators.WRONG_SETUP_CODE, field="code")
        # Once per plan: the sealed secret in a replayed cookie must not make a second device
        # (the request is rolled back, the device with it).
        once.claim_or_stop(ctx, DEVICE_SAVED)
        reauthentication.notify_added(user, authenticators.TOTP)
        return Advance({TOTP_SETUP: None}, notice=ctx.options.done_message)


def _user_of(ctx):
    """The proved pending user (the signed-in user, in a setup flow)."""
    return ctx.proved_user


def _secret_of(ctx) -> str | None:
    return authenticators.open_setup_secret(ctx.data.get(TOTP_SETUP))
