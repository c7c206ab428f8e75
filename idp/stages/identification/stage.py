from idp.flows.context import (
    AUTH_METHOD,
    PASSWORD_CHECKED_FOR,
    PENDING_USER_ID,
    UID,
    UID_FIELDS,
    resolve_pending_user,
)
from idp.flows.outcomes import Advance, Retry
from idp.password_checks import check_sign_in_password
from idp.site_settings import is_enrollment_open
from idp.stages.base import StageType
from idp.stages.identification.authentik import AUTHENTIK
from idp.stages.identification.forms import (
    IdentificationForm,
    IdentificationWithPasswordForm,
)
from idp.stages.identification.options import IdentificationOptions

FIELD_LABELS = {"username": "Username", "email": "Email"}


class IdentificationStage(StageType):
    """Asks who is signing in, and with `password_field` their password on the same page.
    Unknown names go on exactly as known ones do."""

    name = "identification"
    label = "Identification"
    description = "Asks for a username or email address (and the password, if set)."
    Options = IdentificationOptions
    authentik = AUTHENTIK
    form_class = IdentificationForm

    def build_form(self, ctx):
        if ctx.options.password_field:
            return IdentificationWithPasswordForm()
        return IdentificationForm()

    def render(self, ctx) -> dict:
        fields = ctx.options.user_fields
        return {
            "uid_label": " or ".join(FIELD_LABELS[field] for field in fields),
            "uid_autocomplete": "email" if fields == ("email",) else "username",
            "submit_label": "Sign in" if ctx.options.password_field else "Continue",
            # Offered only while an administrator has sign-up turned on.
            "offers_enrollment": bool(ctx.options.enrollment_flow) and is_enrollment_open(),
        }

    def submit(self, ctx, form):
        # Only what was typed goes into the plan: a readable cookie must not reveal whether
        # the account exists. Any earlier pending user is forgotten.
        identified = {
            UID: form.uid_field.data.strip(),
            UID_FIELDS: list(ctx.options.user_fields),
            PENDING_USER_ID: None,
            PASSWORD_CHECKED_FOR: None,
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
            }
        )
