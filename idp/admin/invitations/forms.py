"""The form that makes an invitation link."""

from datetime import timedelta

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from idp.admin.fields import strip
from idp.core.durations import parse_duration
from idp.core.forms import Form, one_line
from idp.core.i18n import lazy_text as _l
from idp.identity.invitations import FixedDataError, read_fixed_data

MAX_INVITATION_LIFETIME = timedelta(days=366)


def _lifetime(form, field):
    text = (field.data or "").strip().lower()
    if text == "never":
        field.lifetime = None
        return
    try:
        field.lifetime = parse_duration(text)
    except (ValueError, OverflowError):
        raise ValidationError(_l("Write a duration like 30m, 8h, 7d or 2w, or never.")) from None
    if not timedelta() < field.lifetime <= MAX_INVITATION_LIFETIME:
        raise ValidationError(_l("Choose a time from a minute to a year, or never."))


class InvitationForm(Form):
    name = StringField(
        _l("Note"),
        filters=[strip],
        validators=[
            Length(max=200, message=_l("Notes are at most 200 characters long.")),
            one_line,
        ],
        description=_l("For the list: who the link is for."),
    )
    flow = SelectField(_l("Flow the link opens"), validate_choice=True)
    expires = StringField(
        _l("Expires after"),
        default="7d",
        validators=[DataRequired(_l("Enter a time, or never.")), Length(max=32), _lifetime],
        description=_l("30m, 8h, 7d, 2w, or never."),
    )
    multi_use = BooleanField(_l("The link may be used more than once"))
    fixed_data = TextAreaField(
        _l("Fixed answers (optional)"),
        filters=[strip],
        validators=[Length(max=5000, message=_l("Write at most 5000 characters."))],
        render_kw={"rows": 4},
        description=(
            _l(
                "One per line, key=value: a prompt field's key and the answer it gets, such as "
                "email=maya@example.test or attributes.team=blue."
            )
        ),
    )

    def fixed_mapping(self) -> dict:
        """The fixed answers by key; raises FixedDataError when a line is bad."""
        lines = (line.strip() for line in (self.fixed_data.data or "").splitlines())
        return read_fixed_data(line for line in lines if line)

    def validate_fixed_data(self, field):
        try:
            self.fixed_mapping()
        except FixedDataError as error:
            message = str(error)
            raise ValidationError(message[0].upper() + message[1:] + ".") from None
