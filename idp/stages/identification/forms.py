from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from idp.passwords import MAX_PASSWORD_LENGTH


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class IdentificationForm(FlaskForm):
    uid_field = StringField(filters=[_strip], validators=[DataRequired(), Length(max=254)])


class IdentificationWithPasswordForm(IdentificationForm):
    # Optional on the server: a form sent without it only identifies (see the options).
    password = PasswordField(
        validators=[
            Optional(strip_whitespace=False),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=f"Passwords are at most {MAX_PASSWORD_LENGTH} characters long.",
            ),
        ]
    )


# The admin's settings form for this type.
