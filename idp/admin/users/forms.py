"""The admin's forms. Filters and searches are plain GET forms (no CSRF, nothing changes);
every form that changes something is a FlaskForm with its CSRF token."""

from datetime import timedelta

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)

from idp.core.durations import parse_duration
from idp.credentials.passwords import MAX_PASSWORD_LENGTH
from idp.identity.accounts import find_group, find_user
from idp.identity.invitations import FixedDataError, read_fixed_data
from idp.identity.signups import email_holder, username_holder
from idp.identity.usernames import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
)

MIN_PASSWORD_LENGTH = 8
MAX_INVITATION_LIFETIME = timedelta(days=366)
DATE_MESSAGE = "Enter a date like 2024-05-31."


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class Free:
    """The value names no other row than the one being edited (`form.editing`)."""

    def __init__(self, find, message: str):
        self.find = find
        self.message = message

    def __call__(self, form, field):
        found = self.find(field.data) if field.data else None
        editing = getattr(form, "editing", None)
        if found is not None and (editing is None or found.id != editing.id):
            raise ValidationError(self.message)


def _not_only_spaces(form, field):
    if field.data and not field.data.strip():
        raise StopValidation("A password cannot be only spaces.")


def _password_validators(presence) -> list:
    return [
        presence,
        _not_only_spaces,
        Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            message=f"Use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters.",
        ),
    ]


class UserForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[_strip],
        validators=[
            DataRequired("Enter a username."),
            Length(
                max=USERNAME_MAX_LENGTH,
                message=f"Usernames are at most {USERNAME_MAX_LENGTH} characters long.",
            ),
            Regexp(USERNAME_PATTERN, message="Use letters, digits and . @ + - _ only."),
            Free(username_holder, "This username is taken."),
        ],
    )
    email = StringField(
        "Email",
        filters=[_strip],
        validators=[
            Optional(),
            Length(
                max=EMAIL_MAX_LENGTH,
                message=f"Email addresses are at most {EMAIL_MAX_LENGTH} characters long.",
            ),
            Regexp(EMAIL_PATTERN, message="Enter a valid email address."),
            Free(email_holder, "Another user has this email."),
        ],
    )
    name = StringField(
        "Name",
        filters=[_strip],
        validators=[Length(max=200, message="Names are at most 200 characters long.")],
    )

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing


class NewUserForm(UserForm):
    is_superuser = BooleanField("Administrator (superuser)")
    password = PasswordField(
        "Password",
        validators=_password_validators(Optional(strip_whitespace=False)),
        description="Optional: without one, the user signs in after a recovery or not at all.",
    )


class PasswordForm(FlaskForm):
    password = PasswordField(
        "New password", validators=_password_validators(DataRequired("Enter a password."))
    )
    confirm = PasswordField(
        "The new password again",
        validators=[EqualTo("password", message="The two passwords are not the same.")],
    )


class GroupForm(FlaskForm):
    name = StringField(
        "Name",
        filters=[_strip],
        validators=[
            DataRequired("Enter a name."),
            Length(max=150, message="Group names are at most 150 characters long."),
            Free(find_group, "A group with this name exists already."),
        ],
    )

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing


class MemberForm(FlaskForm):
    username = StringField(
        "Username",
        filters=[_strip],
        validators=[
            DataRequired("Enter a username."),
            Length(max=150, message="Usernames are at most 150 characters long."),
        ],
    )

    def validate_username(self, field):
        self.user = find_user(field.data, ("username",))
        if self.user is None:
            raise ValidationError(f"There is no user named {field.data}.")


def _lifetime(form, field):
    text = (field.data or "").strip().lower()
    if text == "never":
        field.lifetime = None
        return
    try:
        field.lifetime = parse_duration(text)
    except (ValueError, OverflowError):
        raise ValidationError("Write a duration like 30m, 8h, 7d or 2w, or never.") from None
    if not timedelta() < field.lifetime <= MAX_INVITATION_LIFETIME:
        raise ValidationError("Choose a time from a minute to a year, or never.")


class InvitationForm(FlaskForm):
    name = StringField(
        "Note",
        filters=[_strip],
        validators=[Length(max=200, message="Notes are at most 200 characters long.")],
        description="For the list: who the link is for.",
    )
    flow = SelectField("Flow the link opens", validate_choice=True)
    expires = StringField(
        "Expires after",
        default="7d",
        validators=[DataRequired("Enter a time, or never."), Length(max=32), _lifetime],
        description="30m, 8h, 7d, 2w, or never.",
    )
    multi_use = BooleanField("The link may be used more than once")
    fixed_data = TextAreaField(
        "Fixed answers (optional)",
        filters=[_strip],
        validators=[Length(max=5000, message="Write at most 5000 characters.")],
        render_kw={"rows": 4},
        description=(
            "One per line, key=value: a prompt field's key and the answer it gets, such as "
            "email=maya@example.test or attributes.team=blue."
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


# -- GET forms: searches and filters ---------------------------------------------------------


class UserSearchForm(Form):
    q = StringField(
        "Search",
        filters=[_strip],
        validators=[Length(max=200, message="Search for at most 200 characters.")],
    )


class EventFilterForm(Form):
    action = StringField(
        "Action",
        filters=[_strip],
        validators=[Length(max=64, message="Actions are at most 64 characters long.")],
    )
    username = StringField(
        "User",
        filters=[_strip],
        validators=[Length(max=150, message="Usernames are at most 150 characters long.")],
    )
    since = DateField("From", validators=[Optional()], invalid_value_message=DATE_MESSAGE)
    until = DateField("To", validators=[Optional()], invalid_value_message=DATE_MESSAGE)

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")
