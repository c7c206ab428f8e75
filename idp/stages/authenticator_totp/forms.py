from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from idp.core.forms import Form
from idp.credentials.authenticators import MAX_CODE_LENGTH


class TotpSetupForm(Form):
    code = StringField(
        validators=[
            InputRequired(message=_l("Please enter the code your app shows.")),
            Length(max=MAX_CODE_LENGTH, message=_l("That code is too long.")),
        ]
    )


# The admin's settings form for this type.
