from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length

from idp.core.forms import Form
from idp.credentials.passkeys import MAX_RESPONSE_LENGTH


class WebAuthnSetupForm(Form):
    name = StringField(validators=[Length(max=100, message=_l("At most 100 characters."))])
    # The browser's answer to navigator.credentials.create(), as JSON, put here by
    # idp/static/webauthn.js.
    webauthn_response = HiddenField(
        validators=[
            InputRequired(message=_l("Your browser sent no passkey. Passkeys need JavaScript.")),
            Length(max=MAX_RESPONSE_LENGTH, message=_l("That answer is too long.")),
        ]
    )


class WebAuthnStartForm(Form):
    """The button that makes a challenge when none waits (another site's link led here, or
    the last one was used): an answer sent anyway is read, and refused as expired."""

    name = StringField(validators=[Length(max=100)])
    webauthn_response = HiddenField(validators=[Length(max=MAX_RESPONSE_LENGTH)])


# The admin's settings form for this type.
