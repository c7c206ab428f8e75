from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from idp.options_forms import options_form_for
from idp.stages.identification.options import IdentificationOptions


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class IdentificationForm(FlaskForm):
    uid_field = StringField(filters=[_strip], validators=[DataRequired(), Length(max=254)])


# The admin's settings form for this type.
OptionsForm = options_form_for(IdentificationOptions)
