from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class IdentificationForm(FlaskForm):
    uid_field = StringField(validators=[InputRequired(), Length(max=254)])
