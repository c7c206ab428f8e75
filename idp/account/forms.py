from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import InputRequired, Length

from idp.credentials.passwords import MAX_PASSWORD_LENGTH


class ConfirmPasswordForm(FlaskForm):
    """The password again, before a change that weakens the account."""

    password = PasswordField(
        "Your password", validators=[InputRequired(), Length(max=MAX_PASSWORD_LENGTH)]
    )
