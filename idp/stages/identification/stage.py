from flask import request
from flask_babel import gettext as _

from idp.core import metrics
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_, translated
from idp.core.network import client_ip
from idp.credentials import passkeys
from idp.credentials.password_checks import check_sign_in_password
from idp.flows.context import (
    AUTH_METHOD,
    PASSKEY_VERIFIED_FOR,
    PASSWORD_CHECKED_FOR,
    PENDING_USER_ID,
    UID,
    UID_FIELDS,
    password_proved,
    resolve_pending_user,
)
from idp.flows.outcomes import Advance, Retry
from idp.identity.site_settings import is_enrollment_open
from idp.models import User
from idp.protection import attempts, reputation
from idp.stages.base import StageType
from idp.stages.identification.authentik import AUTHENTIK
from idp.stages.identification.forms import (
    IdentificationForm,
    IdentificationWithPasskeyForm,
    IdentificationWithPasswordAndPasskeyForm,
    IdentificationWithPasswordForm,
)
from idp.stages.identification.options import IdentificationOptions

FIELD_LABELS = {
    ("username",): N_("Username"),
    ("email",): N_("Email"),
    ("username", "email"): N_("Username or email"),
    ("email", "username"): N_("Email or username"),
}
# The address of a sign-in flow may carry ?login_hint= (an application's, through
# /application/o/authorize/ and /login): the name field starts filled in with it.
LOGIN_HINT = "login_hint"
MAX_HINT_LENGTH = 254


class IdentificationStage(StageType):
    """Asks who is signing in, and with `password_field` their password on the same page.
    Unknown names go on exactly as known ones do."""

    name = "identification"
    label = N_("Identification")
    description = N_("Asks for a username or email address (and the password, if set).")
    Options = IdentificationOptions
    authentik = AUTHENTIK
    form_class = IdentificationForm

    def build_form(self, ctx):
        form = _form_class(ctx)()
        hint = request.args.get(LOGIN_HINT, "") if request.method == "GET" else ""
        if hint and len(hint) <= MAX_HINT_LENGTH and not form.uid_field.data:
            # OpenID Connect's login_hint (passed on by the authorization endpoint): the
            # name is filled in, nothing more; the visitor may change it.
            form.uid_field.data = hint.strip()
        return form

    def on_reach(self, ctx):
        if _offers_passkey(ctx) and _challenge_of(ctx) is None:
            _new_challenge(ctx)
        return None

    def render(self, ctx) -> dict:
        fields = ctx.options.user_fields
        page = {
            "uid_label": translated(FIELD_LABELS[tuple(fields)]),
            "uid_autocomplete": "email" if fields == ("email",) else "username",
            "submit_label": translated(ctx.options.submit_label)
            or (_("Sign in") if ctx.options.password_field else _("Continue")),
            "passkey_options": None,
            # Offered only while an administrator has sign-up turned on.
            "offers_enrollment": bool(ctx.options.enrollment_flow) and is_enrollment_open(),
        }
        challenge = _challenge_of(ctx) if _offers_passkey(ctx) else None
        if challenge is not None:
            page["passkey_options"] = passkeys.authentication_options_json(
                passkeys.relying_party(),
                passkeys.base64url_to_bytes(challenge.challenge),
                None,
                "required",
            )
            # Passkey autofill: the browser lists this site's passkeys under the name field.
            page["uid_autocomplete"] += " webauthn"
        return page

    def submit(self, ctx, form):
        if "webauthn_response" in form and form.webauthn_response.data:
            return _sign_in_with_passkey(ctx, form.webauthn_response.data)
        # Only what was typed goes into the plan: a readable cookie must not reveal whether
        # the account exists. Any earlier pending user is forgotten.
        identified = {
            UID: form.uid_field.data.strip(),
            UID_FIELDS: list(ctx.options.user_fields),
            PENDING_USER_ID: None,
            PASSWORD_CHECKED_FOR: None,
            PASSKEY_VERIFIED_FOR: None,
        }
        password = form.password.data if "password" in form else None
        if not password:
            return Advance(identified)
        # The same check as the password stage's: counted, throttled, a dummy hash for names
        # nobody has, and one message for an unknown name and a wrong password.
        user = resolve_pending_user(identified)
        check = check_sign_in_password(ctx, identified[UID], user, password)
        if check.user is None:
            return Retry(check.problem, field="password")
        return Advance(
            {
                **identified,
                PENDING_USER_ID: check.user.id,
                PASSWORD_CHECKED_FOR: check.user.id,
                AUTH_METHOD: "password",
                **password_proved(check.user),
            }
        )


def _form_class(ctx):
    with_passkey = _offers_passkey(ctx)
    if ctx.options.password_field:
        if with_passkey:
            return IdentificationWithPasswordAndPasskeyForm
        return IdentificationWithPasswordForm
    return IdentificationWithPasskeyForm if with_passkey else IdentificationForm


def _offers_passkey(ctx) -> bool:
    return ctx.options.passkey_login and passkeys.relying_party() is not None


def _challenge_of(ctx):
    return passkeys.current_challenge(ctx.plan_id, ctx.binding.id, passkeys.PASSWORDLESS)


def _new_challenge(ctx) -> None:
    passkeys.new_challenge(ctx.plan_id, ctx.binding.id, passkeys.PASSWORDLESS, None)


def _sign_in_with_passkey(ctx, response: str):
    """A discoverable passkey names its user; it counts only if it verified them (PIN or
    biometrics), since it stands for the password and the second factor at once. Nobody is
    named before it is checked, so nothing tells whether an account exists."""
    party = passkeys.relying_party()
    if not ctx.options.passkey_login or party is None:
        return Retry(passkeys.UNAVAILABLE)
    ip = client_ip()
    # Counted against the IP before the answer is looked at, as a password is before its hash
    # runs: a flood of answers (replayed ones included) is slowed like password guesses.
    wait = attempts.take_ip_attempt(ip)
    if wait:
        record_event("passkey_login_throttled", ip=ip, flow_slug=ctx.flow.slug, wait=wait)
        _new_challenge(ctx)  # the answer is not weighed, and its challenge is spent
        return Retry(_("Too many failed attempts. Try again in %(seconds)d s.", seconds=wait))
    challenge = passkeys.take_challenge(ctx.plan_id, ctx.binding.id, passkeys.PASSWORDLESS)
    if challenge is None:
        return _refused(ctx, ip, passkeys.EXPIRED, "expired")
    try:
        device = passkeys.authenticate(party, challenge, response, None, True, ctx.flow.slug)
    except passkeys.PasskeyRefused as refused:
        return _refused(ctx, ip, refused.message, "refused")
    user = db.session.get(User, device.user_id)
    if user is None or not user.is_active:
        # The passkey verified them: the audit log may name whom it belongs to.
        return _refused(ctx, ip, passkeys.NOT_ACCEPTED, "inactive", user)
    attempts.ip_attempt_succeeded(ip)
    reputation.record_sign_in(user.username, ip, succeeded=True)
    return Advance(
        {
            UID: user.username,
            UID_FIELDS: ["username"],
            PENDING_USER_ID: user.id,
            PASSWORD_CHECKED_FOR: None,
            PASSKEY_VERIFIED_FOR: user.id,
            AUTH_METHOD: "passkey",
        }
    )


def _refused(ctx, ip: str, message: str, reason: str, user: User | None = None) -> Retry:
    """A failed passwordless sign-in, already counted against the IP: recorded, and a new
    challenge waits for the next try."""
    record_event("passkey_login_failed", user=user, ip=ip, flow_slug=ctx.flow.slug, reason=reason)
    # The address's reputation falls as after a wrong password; no name is known to lower.
    reputation.change_score(reputation.CLIENT_IP, ip, -1)
    metrics.SIGN_IN_FAILURES.labels("passkey").inc()
    _new_challenge(ctx)
    return Retry(message)
