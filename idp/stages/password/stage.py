from idp.core.i18n import N_
from idp.credentials.password_checks import INVALID, check_sign_in_password
from idp.flows.context import (
    AUTH_METHOD,
    PASSKEY_VERIFIED_FOR,
    PASSWORD_CHECKED_FOR,
    PENDING_USER_ID,
    UID,
    password_proved,
)
from idp.flows.outcomes import Advance, Retry
from idp.stages.base import StageType
from idp.stages.password.authentik import AUTHENTIK
from idp.stages.password.forms import PasswordForm
from idp.stages.password.options import PasswordOptions
from idp.stages.password.words import words_for


class PasswordStage(StageType):
    """Checks the password of the user named earlier (or of the signed-in user)."""

    name = "password"
    label = N_("Password")
    authentik = AUTHENTIK
    description = N_(
        "Asks for the password and checks it; passed by when the identification stage "
        "already checked it on the same page."
    )
    Options = PasswordOptions
    form_class = PasswordForm

    def is_satisfied(self, ctx) -> bool:
        # The identification stage checked the password of the user this flow is about.
        # Or a passkey that verified its user signed them in without a password.
        pending = ctx.data.get(PENDING_USER_ID)
        return pending is not None and pending in (
            ctx.data.get(PASSWORD_CHECKED_FOR),
            ctx.data.get(PASSKEY_VERIFIED_FOR),
        )

    def render(self, ctx) -> dict:
        return {"uid": ctx.data.get(UID, ""), "words": words_for(ctx)}

    def submit(self, ctx, form):
        user = ctx.pending_user or ctx.current_user
        check = check_sign_in_password(ctx, ctx.data.get(UID, ""), user, form.password.data)
        if check.user is None:
            # Throttling and proof messages stay as they are; only "wrong" has its words.
            problem = words_for(ctx).failure_message if check.problem == INVALID else check.problem
            return Retry(problem, field="password")
        return Advance(
            {PENDING_USER_ID: check.user.id, AUTH_METHOD: "password", **password_proved(check.user)}
        )
