from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from idp.credentials.passwords import MAX_PASSWORD_LENGTH


class PasswordForm(FlaskForm):
    password = PasswordField(
        validators=[
            InputRequired(message="Please enter your password."),
            Length(
                max=MAX_PASSWORD_LENGTH,
                message=f"Passwords are at most {MAX_PASSWORD_LENGTH} characters long.",
            ),
        ]
    )


# The admin's settings form for this type.
