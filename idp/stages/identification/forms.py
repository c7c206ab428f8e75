from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import Length, Optional, StopValidation

from idp.core.forms import Form
from idp.credentials.passkeys import MAX_RESPONSE_LENGTH
from idp.credentials.passwords import MAX_PASSWORD_LENGTH


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class NameUnlessPasskey:
    """Required, as DataRequired is, unless the passkey form (which has no name) was sent."""

    field_flags = {"required": True}

    def __call__(self, form, field):
        passkey = getattr(form, "webauthn_response", None)
        if passkey is not None and passkey.data:
            raise StopValidation()
        if not field.data:
            raise StopValidation(field.gettext("This field is required."))


class IdentificationForm(Form):
    uid_field = StringField(filters=[_strip], validators=[NameUnlessPasskey(), Length(max=254)])


class IdentificationWithPasswordForm(IdentificationForm):
    # Optional on the server: a form sent without it only identifies (see the options).
    password = PasswordField(
        validators=[
            Optional(strip_whitespace=False),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=_l(
                    "Passwords are at most %(num)d characters long.", num=MAX_PASSWORD_LENGTH
                ),
            ),
        ]
    )


class PasskeyAnswer:
    # The browser's answer to navigator.credentials.get(), put here by webauthn.js.
    webauthn_response = HiddenField(
        validators=[Length(max=MAX_RESPONSE_LENGTH, message=_l("That answer is too long."))]
    )


class IdentificationWithPasskeyForm(PasskeyAnswer, IdentificationForm):
    pass


class IdentificationWithPasswordAndPasskeyForm(PasskeyAnswer, IdentificationWithPasswordForm):
    pass


# The admin's settings form for this type.
