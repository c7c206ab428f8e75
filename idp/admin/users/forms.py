"""Forms for users and groups. The search is a plain GET form (no CSRF, nothing changes); every
form that changes something is a FlaskForm with its CSRF token."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    PasswordField,
    StringField,
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

from idp.admin.fields import Free, strip
from idp.credentials.passwords import MAX_PASSWORD_LENGTH
from idp.identity.accounts import find_group, find_user
from idp.identity.signups import email_holder, username_holder
from idp.identity.usernames import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
)

MIN_PASSWORD_LENGTH = 8


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
        filters=[strip],
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
        filters=[strip],
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
        filters=[strip],
        validators=[Length(max=200, message="Names are at most 200 characters long.")],
    )
    email_verified = BooleanField(
        "The address is verified",
        description="Applications are told so (email_verified); unticked, they are told it "
        "is not. Its owner also verifies it by following a mailed link.",
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
        filters=[strip],
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
        filters=[strip],
        validators=[
            DataRequired("Enter a username."),
            Length(max=150, message="Usernames are at most 150 characters long."),
        ],
    )

    def validate_username(self, field):
        self.user = find_user(field.data, ("username",))
        if self.user is None:
            raise ValidationError(f"There is no user named {field.data}.")


# -- GET forms: searches and filters ---------------------------------------------------------


class UserSearchForm(Form):
    q = StringField(
        "Search",
        filters=[strip],
        validators=[Length(max=200, message="Search for at most 200 characters.")],
    )
