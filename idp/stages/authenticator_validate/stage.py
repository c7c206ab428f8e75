from flask_wtf import FlaskForm

from idp import attempts, authenticators, metrics, reauthentication
from idp.events import record_event
from idp.flows import once
from idp.flows.context import AUTH_METHOD, TOTP_SETUP, UID
from idp.flows.outcomes import Advance, Deny, Retry, Stay
from idp.network import client_ip
from idp.stages.authenticator_validate.authentik import AUTHENTIK
from idp.stages.authenticator_validate.forms import CodeForm
from idp.stages.authenticator_validate.options import AuthenticatorValidateOptions
from idp.stages.base import StageType

# Where the user stands; "skip", "deny" and "configure" are the not_configured_action.
NOT_PROVED = "not_proved"
ASK = "ask"
SKIP, DENY, CONFIGURE = "skip", "deny", "configure"

NOT_PROVED_MESSAGE = "Please sign in with your password first."
NOT_CONFIGURED_MESSAGE = (
    "Signing in here needs an authenticator app or a recovery code, and your account has "
    "none. Please ask your administrator."
)
WRONG_CODE = "That code is not right."


class AuthenticatorValidateStage(StageType):
    """Asks the user the password has proved for a second factor: a code from one of their
    authenticator apps, or one of their recovery codes. Each code is good once."""

    name = "authenticator_validate"
    label = "Authenticator check"
    description = "Asks for a code from an authenticator app, or a recovery code."
    Options = AuthenticatorValidateOptions
    authentik = AUTHENTIK
    form_class = CodeForm

    def is_satisfied(self, ctx) -> bool:
        return _situation(ctx) == SKIP

    def build_form(self, ctx):
        situation = _situation(ctx)
        if situation == ASK or (situation == CONFIGURE and _secret_of(ctx) is not None):
            return CodeForm()
        return FlaskForm()  # nothing to type: a button, or only a message

    def on_reach(self, ctx):
        if _situation(ctx) != CONFIGURE or _secret_of(ctx) is not None:
            return None
        return {TOTP_SETUP: authenticators.sealed_new_totp_secret()}

    def render(self, ctx) -> dict:
        user, situation, kinds = _standing(ctx)
        page = {
            "situation": situation,
            "username": user.username if user else ctx.data.get(UID, ""),
            "kinds": kinds,
            "message": {NOT_PROVED: NOT_PROVED_MESSAGE, DENY: NOT_CONFIGURED_MESSAGE}.get(
                situation, ""
            ),
            "enrolment": None,
        }
        secret = _secret_of(ctx) if situation == CONFIGURE else None
        if secret is not None:
            page["enrolment"] = authenticators.totp_enrolment(user, secret, ctx.options.settings)
        return page

    def submit(self, ctx, form):
        situation = _situation(ctx)
        if situation == NOT_PROVED:
            return Deny(NOT_PROVED_MESSAGE)
        if situation == DENY:
            return Deny(NOT_CONFIGURED_MESSAGE)
        if situation == SKIP:
            return Advance()
        if situation == CONFIGURE:
            return self._set_up(ctx, _user_of(ctx), form)
        return self._check(ctx, _user_of(ctx), form.code.data)

    @staticmethod
    def _check(ctx, user, code):
        ip = client_ip()
        # Counted before the code is looked at, so parallel or replayed tries cannot outrun it.
        wait = attempts.take_code_attempt(user.id)
        if wait:
            record_event("code_throttled", user=user, ip=ip, flow_slug=ctx.flow.slug, wait=wait)
            return Retry(f"Too many wrong codes. Try again in {wait} s.", field="code")
        method = authenticators.verify_code(user, code)
        if method is None:
            record_event("code_failed", user=user, ip=ip, flow_slug=ctx.flow.slug)
            metrics.SIGN_IN_FAILURES.labels("code").inc()
            return Retry(WRONG_CODE, field="code")
        attempts.code_attempt_succeeded(user.id)
        if method == "recovery_code":
            record_event("recovery_code_used", user=user, ip=ip, flow_slug=ctx.flow.slug)
        return Advance({AUTH_METHOD: method})

    @staticmethod
    def _set_up(ctx, user, form):
        """not_configured_action "configure": the user sets up an app here, then goes on."""
        secret = _secret_of(ctx)
        if secret is None:
            # Reached from another site, so on_reach waited for this click.
            new_secret = authenticators.sealed_new_totp_secret()
            return Stay(authenticators.SCAN_NEW_QR_CODE, {TOTP_SETUP: new_secret})
        device = authenticators.finish_totp_enrolment(
            user, secret, ctx.options.settings, form.code.data, ctx.flow.slug
        )
        if device is None:
            return Retry(authenticators.WRONG_SETUP_CODE, field="code")
        once.claim_or_stop(ctx, "totp_device")
        reauthentication.notify_added(user, authenticators.TOTP)
        return Advance({TOTP_SETUP: None, AUTH_METHOD: "totp"})


def _user_of(ctx):
    """The user the password (or another earlier stage) has proved; never a name only typed."""
    return ctx.proved_user


def _standing(ctx):
    """The proved user, where they stand, and the kinds of authenticator they have."""
    user = _user_of(ctx)
    if user is None:
        return None, NOT_PROVED, frozenset()
    kinds = authenticators.kinds_of(user)
    return user, ASK if kinds else ctx.options.not_configured_action, kinds


def _situation(ctx) -> str:
    return _standing(ctx)[1]


def _secret_of(ctx) -> str | None:
    return authenticators.open_setup_secret(ctx.data.get(TOTP_SETUP))
