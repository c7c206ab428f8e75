"""The event log's filter: a plain GET form (no CSRF, nothing changes)."""

from wtforms import DateField, Form, StringField
from wtforms.validators import Length, Optional, ValidationError

from idp.admin.fields import strip

DATE_MESSAGE = "Enter a date like 2024-05-31."


class EventFilterForm(Form):
    action = StringField(
        "Action",
        filters=[strip],
        validators=[Length(max=64, message="Actions are at most 64 characters long.")],
    )
    username = StringField(
        "User",
        filters=[strip],
        validators=[Length(max=150, message="Usernames are at most 150 characters long.")],
    )
    since = DateField("From", validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    until = DateField("To", validators=[Optional()], invalid_value_message=DATE_MESSAGE)

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")
