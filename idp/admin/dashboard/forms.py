"""The event log's filter: a plain GET form (no CSRF, nothing changes)."""

from wtforms import DateField, Form, StringField
from wtforms.validators import Length, Optional, ValidationError

from idp.admin.fields import strip
from idp.core.i18n import lazy_text as _l

DATE_MESSAGE = _l("Enter a date like 2024-05-31.")


class EventFilterForm(Form):
    action = StringField(
        _l("Action"),
        filters=[strip],
        validators=[Length(max=64, message=_l("Actions are at most 64 characters long."))],
    )
    username = StringField(
        _l("User"),
        filters=[strip],
        validators=[Length(max=150, message=_l("Usernames are at most 150 characters long."))],
    )
    since = DateField(_l("From"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    until = DateField(_l("To"), validators=[Optional()], invalid_value_message=DATE_MESSAGE)

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))
