from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import Length, StopValidation

from idp.core.forms import Form
from idp.credentials.authenticators import MAX_CODE_LENGTH
from idp.credentials.passkeys import MAX_RESPONSE_LENGTH


def _code_unless_passkey(form, field):
    """A code is needed, unless the passkey form (no code field of its own) was sent."""
    if getattr(form, "webauthn_response", None) is not None and form.webauthn_response.data:
        raise StopValidation()
    if not (field.data or "").strip():
        raise StopValidation(_l("Please enter a code."))


class CodeForm(Form):
    code = StringField(
        validators=[
            _code_unless_passkey,
            Length(max=MAX_CODE_LENGTH, message=_l("That code is too long.")),
        ]
    )
    # The browser's answer to navigator.credentials.get(), put here by webauthn.js.
    webauthn_response = HiddenField(
        validators=[Length(max=MAX_RESPONSE_LENGTH, message=_l("That answer is too long."))]
    )


# The admin's settings form for this type.
