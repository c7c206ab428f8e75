from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length

from idp.core.forms import Form
from idp.core.i18n import LANGUAGE_NAMES
from idp.credentials.passwords import MAX_PASSWORD_LENGTH


class ConfirmPasswordForm(Form):
    """The password again, before a change that weakens the account."""

    password = PasswordField(
        _l("Your password"),
        validators=[
            InputRequired(message=_l("Enter your password to confirm.")),
            Length(max=MAX_PASSWORD_LENGTH),
        ],
    )


class LanguageForm(Form):
    """The language of the pages and mails: one of ours, or (empty) the browser's."""

    language = SelectField(
        _l("Language"),
        # Each language by its own name, so that anyone finds theirs whatever the page's.
        choices=[
            SelectChoice("", _l("Browser default")),
            *(SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()),
        ],
    )
