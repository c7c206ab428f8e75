"""Proving who you are again before adding a way to sign in.

A session cookie alone must not be able to plant a persistent second factor: whoever stole
it would keep a way in after the session ends. So a signed-in user adds an authenticator
(an app, recovery codes, later a passkey) only within IDP_REAUTHENTICATION_WINDOW seconds
(default 5 minutes) of proving themselves: signing in, or answering the password and, when
they have one, a code from a current second factor. The time is kept on the session row,
never in the cookie.

A stage that adds an authenticator calls the rule: `is_required(ctx)` tells whether to ask,
`ReauthenticateForm` and `page(ctx)` ask (its template includes
"flow/_reauthenticate.html"), and `confirm(ctx, form)` checks the answer.
"""

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired, Length

from idp.brand.settings import current_brand
from idp.core.events import record_event
from idp.core.forms import Form
from idp.core.i18n import N_, format_moment, in_language_of, translated
from idp.core.mail import send_mail
from idp.core.network import client_ip
from idp.credentials import authenticators
from idp.flows.outcomes import Retry
from idp.identity.accounts import confirm_password
from idp.identity.sessions import load_current_session
from idp.models import User, UserSession
from idp.models.types import utcnow
from idp.protection import attempts

CODE_NEEDED = N_("Enter a code from your authenticator app, or a recovery code.")
WRONG_CODE = N_("That code is not right.")
MAX_PASSWORD_LENGTH = 1024


class ReauthenticateForm(Form):
    password = PasswordField(
        validators=[
            InputRequired(message=_l("Please enter your password.")),
            Length(max=MAX_PASSWORD_LENGTH, message=_l("That password is too long.")),
        ]
    )
    # Asked only of users who have a second factor; empty otherwise.
    code = StringField(
        validators=[
            Length(max=authenticators.MAX_CODE_LENGTH, message=_l("That code is too long."))
        ]
    )


def window() -> timedelta:
    return timedelta(seconds=current_app.config["REAUTHENTICATION_WINDOW"])


def is_fresh(row: UserSession | None) -> bool:
    """The session's user proved themselves within the window."""
    if row is None or row.reauthenticated_at is None:
        return False
    return utcnow() - row.reauthenticated_at <= window()


def is_required(ctx) -> bool:
    """A signed-in user must prove themselves again before this stage adds anything. A flow
    run without a session (sign-in, sign-up) proves its user in its own earlier stages."""
    if ctx.current_user is None or ctx.proved_user is None:
        return False
    return not is_fresh(load_current_session())


def page(ctx) -> dict:
    """What the stage's template needs to ask."""
    user = ctx.proved_user
    return {"reauthenticate": {"needs_code": has_second_factor(user), "window": window()}}


def has_second_factor(user: User) -> bool:
    return bool(authenticators.kinds_of(user))


def confirm(ctx, form: ReauthenticateForm) -> Retry | None:
    """Check the password (and a code, when the user has a second factor), both throttled
    like a sign-in. None when they are right, and the session is fresh from now on."""
    user = ctx.proved_user
    refusal = confirm_password(user, form.password.data)
    if refusal is not None:
        return Retry(refusal, field="password")
    if has_second_factor(user):
        refusal = _confirm_code(ctx, user, (form.code.data or "").strip())
        if refusal is not None:
            return refusal
    mark_fresh()
    record_event("reauthenticated", user=user, ip=client_ip(), flow_slug=ctx.flow.slug)
    return None


def _confirm_code(ctx, user: User, code: str) -> Retry | None:
    if not code:
        return Retry(CODE_NEEDED, field="code")
    # Counted before the code is looked at, as at sign-in.
    wait = attempts.take_code_attempt(user.id)
    if wait:
        return Retry(f"Too many wrong codes. Try again in {wait} s.", field="code")
    if authenticators.verify_code(user, code) is None:
        record_event("code_failed", user=user, ip=client_ip(), flow_slug=ctx.flow.slug)
        return Retry(WRONG_CODE, field="code")
    attempts.code_attempt_succeeded(user.id)
    return None


def mark_fresh() -> None:
    """This session's user has just proved themselves."""
    row = load_current_session()
    if row is not None:
        row.reauthenticated_at = utcnow()


KIND_NAMES = {
    authenticators.TOTP: N_("an authenticator app"),
    authenticators.RECOVERY_CODES: N_("a new set of recovery codes"),
    "webauthn": N_("a passkey or security key"),
}


def notify_added(user: User, kind: str) -> None:
    """Mail the user that an authenticator was added: if it was not them, they learn that
    someone holds a way into their account. The mail carries no link (a Host header may be
    an attacker's); the account page's address comes from IDP_BASE_URL when it is set."""
    if not user.email:
        return
    base = current_app.config["BASE_URL"]
    brand = current_brand()
    with in_language_of(user):
        text = render_template(
            "mail/authenticator_added.txt",
            user=user,
            what=_sentence_start(translated(KIND_NAMES.get(kind, N_("a way to sign in")))),
            when=format_moment(utcnow()) + " UTC",
            ip=client_ip(),
            account_page=f"{base}/me" if base else "",
        )
        subject = brand.branded(brand.authenticator_added_subject)
    send_mail(user.email, subject, text)


def _sentence_start(words: str) -> str:
    """The words with a capital first letter, the rest as they are (German nouns stay
    capitalised, which Jinja's |capitalize would lower)."""
    return words[:1].upper() + words[1:]
