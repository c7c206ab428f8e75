from flask_babel import lazy_gettext as _l
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from idp.core.forms import Form
from idp.credentials.passwords import MAX_PASSWORD_LENGTH


class PasswordForm(Form):
    password = PasswordField(
        validators=[
            InputRequired(message=_l("Please enter your password.")),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=_l(
                    "Passwords are at most %(num)d characters long.", num=MAX_PASSWORD_LENGTH
                ),
            ),
        ]
    )


# The admin's settings form for this type.
