from flask_babel import gettext as _

from idp.core import metrics
from idp.core.events import record_event
from idp.core.forms import Form
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.credentials import authenticators, passkeys, reauthentication
from idp.flows import once
from idp.flows.context import AUTH_METHOD, PASSKEY_VERIFIED_FOR, PENDING_USER_ID, TOTP_SETUP, UID
from idp.flows.outcomes import Advance, Deny, Retry, Stay
from idp.protection import attempts
from idp.stages.authenticator_validate.authentik import AUTHENTIK
from idp.stages.authenticator_validate.forms import CodeForm
from idp.stages.authenticator_validate.options import AuthenticatorValidateOptions
from idp.stages.base import StageType

# Where the user stands; "skip", "deny" and "configure" are the not_configured_action.
NOT_PROVED = "not_proved"
ASK = "ask"
SKIP, DENY, CONFIGURE = "skip", "deny", "configure"

NOT_PROVED_MESSAGE = N_("Please sign in with your password first.")
NOT_CONFIGURED_MESSAGE = (
    "Signing in here needs an authenticator app or a recovery code, and your account has "
    "none. Please ask your administrator."
)
WRONG_CODE = N_("That code is not right.")
# authentik's device classes, and the kinds of authenticator Gatehouse keeps for them.
KIND_OF_CLASS = {
    "totp": authenticators.TOTP,
    "static": authenticators.RECOVERY_CODES,
    "webauthn": authenticators.WEBAUTHN,
}


class AuthenticatorValidateStage(StageType):
    """Asks the user the password has proved for a second factor: a passkey, a code from one
    of their authenticator apps, or one of their recovery codes (the option device_classes
    says which count). Each code and each passkey challenge is good once."""

    name = "authenticator_validate"
    label = N_("Authenticator check")
    description = N_(
        "Asks for a second factor: a passkey or security key, a code from an authenticator "
        "app, or a recovery code (device_classes says which)."
    )
    Options = AuthenticatorValidateOptions
    authentik = AUTHENTIK
    form_class = CodeForm

    def is_satisfied(self, ctx) -> bool:
        # A passkey that verified its user (PIN or biometrics) signed this user in without a
        # password: it was already two factors.
        verified = ctx.data.get(PASSKEY_VERIFIED_FOR)
        if verified is not None and verified == ctx.data.get(PENDING_USER_ID):
            return True
        return _situation(ctx) == SKIP

    def build_form(self, ctx):
        situation = _situation(ctx)
        if situation == ASK or (situation == CONFIGURE and _secret_of(ctx) is not None):
            return CodeForm()
        return Form()  # nothing to type: a button, or only a message

    def on_reach(self, ctx):
        user, situation, kinds = _standing(ctx)
        if situation == ASK and authenticators.WEBAUTHN in kinds:
            if passkeys.relying_party() is not None and _challenge_of(ctx) is None:
                _new_challenge(ctx, user)
            return None
        if situation != CONFIGURE or _secret_of(ctx) is not None:
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
            "passkey_options": None,
            "passkey_unavailable": "",
        }
        if situation == ASK and authenticators.WEBAUTHN in kinds:
            party, challenge = passkeys.relying_party(), _challenge_of(ctx)
            if party is None:
                page["passkey_unavailable"] = passkeys.UNAVAILABLE
            elif challenge is not None:
                page["passkey_options"] = passkeys.authentication_options_json(
                    party,
                    passkeys.base64url_to_bytes(challenge.challenge),
                    user,
                    ctx.options.webauthn_user_verification,
                )
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
        user, _, kinds = _standing(ctx)
        if form.webauthn_response.data:
            return self._check_passkey(ctx, user, kinds, form.webauthn_response.data)
        return self._check(ctx, user, form.code.data, kinds)

    @staticmethod
    def _check_passkey(ctx, user, kinds, response):
        party = passkeys.relying_party()
        if authenticators.WEBAUTHN not in kinds or party is None:
            return Retry(passkeys.UNAVAILABLE if party is None else passkeys.UNKNOWN_PASSKEY)
        challenge = passkeys.take_challenge(ctx.plan_id, ctx.binding.id, passkeys.AUTHENTICATE)
        if challenge is None:
            _new_challenge(ctx, user)
            return Retry(passkeys.EXPIRED)
        required = ctx.options.webauthn_user_verification == "required"
        try:
            passkeys.authenticate(party, challenge, response, user, required, ctx.flow.slug)
        except passkeys.PasskeyRefused as refused:
            record_event("passkey_failed", user=user, ip=client_ip(), flow_slug=ctx.flow.slug)
            metrics.SIGN_IN_FAILURES.labels("passkey").inc()
            _new_challenge(ctx, user)
            return Retry(refused.message)
        return Advance({AUTH_METHOD: "webauthn"})

    @staticmethod
    def _check(ctx, user, code, kinds):
        ip = client_ip()
        # Counted before the code is looked at, so parallel or replayed tries cannot outrun it.
        wait = attempts.take_code_attempt(user.id)
        if wait:
            record_event("code_throttled", user=user, ip=ip, flow_slug=ctx.flow.slug, wait=wait)
            return Retry(
                _("Too many wrong codes. Try again in %(seconds)d s.", seconds=wait), field="code"
            )
        method = _verify_code(user, code, kinds)
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
            user, secret, ctx.options.settings, form.code.data or "", ctx.flow.slug
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
    """The proved user, where they stand, and the kinds of authenticator they have that the
    stage accepts. A passkey counts even while passkeys are switched off (no domain set):
    such a user is told so, never let through as one without a second factor."""
    user = _user_of(ctx)
    if user is None:
        return None, NOT_PROVED, frozenset()
    has = authenticators.kinds_of(user, with_passkeys=True)
    accepted = {KIND_OF_CLASS[name] for name in ctx.options.device_classes}
    kinds = frozenset(has & accepted)
    return user, ASK if kinds else ctx.options.not_configured_action, kinds


def _verify_code(user, code, kinds) -> str | None:
    """As authenticators.verify_code, for the kinds this stage accepts only."""
    code = authenticators.normalize_code(code or "")
    is_number = code.isascii() and code.isdigit()
    if authenticators.TOTP in kinds and is_number and authenticators.use_totp_code(user, code):
        return "totp"
    if authenticators.RECOVERY_CODES in kinds and authenticators.use_recovery_code(user, code):
        return "recovery_code"
    return None


def _challenge_of(ctx):
    return passkeys.current_challenge(ctx.plan_id, ctx.binding.id, passkeys.AUTHENTICATE)


def _new_challenge(ctx, user) -> None:
    passkeys.new_challenge(ctx.plan_id, ctx.binding.id, passkeys.AUTHENTICATE, user)


def _situation(ctx) -> str:
    return _standing(ctx)[1]


def _secret_of(ctx) -> str | None:
    return authenticators.open_setup_secret(ctx.data.get(TOTP_SETUP))
