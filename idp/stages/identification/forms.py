from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class IdentificationForm(FlaskForm):
    uid_field = StringField(filters=[_strip], validators=[DataRequired(), Length(max=254)])


# The admin's settings form for this type.
