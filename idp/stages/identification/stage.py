from idp.flows.context import PENDING_USER_ID, UID, UID_FIELDS
from idp.flows.outcomes import Advance
from idp.stages.base import StageType
from idp.stages.identification.authentik import AUTHENTIK
from idp.stages.identification.forms import IdentificationForm
from idp.stages.identification.options import IdentificationOptions

FIELD_LABELS = {"username": "Username", "email": "Email"}


class IdentificationStage(StageType):
    """Asks who is signing in. Unknown names go on exactly as known ones do."""

    name = "identification"
    label = "Identification"
    description = "Asks for a username or email address."
    Options = IdentificationOptions
    authentik = AUTHENTIK
    form_class = IdentificationForm

    def render(self, ctx) -> dict:
        fields = ctx.options.user_fields
        return {
            "uid_label": " or ".join(FIELD_LABELS[field] for field in fields),
            "uid_autocomplete": "email" if fields == ("email",) else "username",
        }

    def submit(self, ctx, form):
        # Only what was typed goes into the plan: a readable cookie must not reveal whether
        # the account exists. Any earlier pending user is forgotten.
        return Advance(
            {
                UID: form.uid_field.data.strip(),
                UID_FIELDS: list(ctx.options.user_fields),
                PENDING_USER_ID: None,
            }
        )
