"""Forms for users and groups. The search is a plain GET form (no CSRF, nothing changes); every
form that changes something is a Form (idp.core.forms) with its CSRF token."""

import wtforms
from flask_babel import gettext as _
from wtforms import (
    BooleanField,
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
from idp.core.forms import Form, one_line
from idp.core.i18n import lazy_text as _l
from idp.core.i18n import translated
from idp.credentials.passwords import MAX_PASSWORD_LENGTH
from idp.identity.accounts import find_group, find_user
from idp.identity.signups import email_holder, username_holder
from idp.identity.usernames import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    new_username_problem,
)

MIN_PASSWORD_LENGTH = 8


def _not_only_spaces(form, field):
    if field.data and not field.data.strip():
        raise StopValidation(_l("A password cannot be only spaces."))


def _password_validators(presence) -> list:
    return [
        presence,
        _not_only_spaces,
        Length(
            min=MIN_PASSWORD_LENGTH,
            max=MAX_PASSWORD_LENGTH,
            message=_l(
                "Use %(min_password_length)s to %(max_password_length)s characters.",
                min_password_length=MIN_PASSWORD_LENGTH,
                max_password_length=MAX_PASSWORD_LENGTH,
            ),
        ),
    ]


def _plain_unless_kept(form, field):
    """A new name reads as itself and is free; a user keeps the name they have, whatever
    rule it met and whoever has a name that reads the same (nothing more is asked of it)."""
    editing = getattr(form, "editing", None)
    if editing is not None and field.data == editing.username:
        raise StopValidation()
    problem = new_username_problem(field.data or "")
    if problem:
        raise ValidationError(translated(problem))


class UserForm(Form):
    username = StringField(
        _l("Username"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a username.")),
            Length(
                max=USERNAME_MAX_LENGTH,
                message=_l(
                    "Usernames are at most %(username_max_length)s characters long.",
                    username_max_length=USERNAME_MAX_LENGTH,
                ),
            ),
            Regexp(USERNAME_PATTERN, message=_l("Use letters, digits and . @ + - _ only.")),
            _plain_unless_kept,
            Free(username_holder, _l("This username is taken.")),
        ],
    )
    email = StringField(
        _l("Email"),
        filters=[strip],
        validators=[
            Optional(),
            Length(
                max=EMAIL_MAX_LENGTH,
                message=_l(
                    "Email addresses are at most %(email_max_length)s characters long.",
                    email_max_length=EMAIL_MAX_LENGTH,
                ),
            ),
            Regexp(EMAIL_PATTERN, message=_l("Enter a valid email address.")),
            Free(email_holder, _l("Another user has this email.")),
        ],
    )
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            Length(max=200, message=_l("Names are at most 200 characters long.")),
            one_line,
        ],
    )
    email_verified = BooleanField(
        _l("The address is verified"),
        description=_l(
            "Applications are told so (email_verified); unticked, they are told it "
            "is not. Its owner also verifies it by following a mailed link."
        ),
    )

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing


class NewUserForm(UserForm):
    is_superuser = BooleanField(_l("Administrator (superuser)"))
    password = PasswordField(
        _l("Password"),
        validators=_password_validators(Optional(strip_whitespace=False)),
        description=_l("Optional: without one, the user signs in after a recovery or not at all."),
    )


class PasswordForm(Form):
    password = PasswordField(
        _l("New password"), validators=_password_validators(DataRequired(_l("Enter a password.")))
    )
    confirm = PasswordField(
        _l("The new password again"),
        validators=[EqualTo("password", message=_l("The two passwords are not the same."))],
    )


class GroupForm(Form):
    name = StringField(
        _l("Name"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a name.")),
            Length(max=150, message=_l("Group names are at most 150 characters long.")),
            one_line,
            Free(find_group, _l("A group with this name exists already.")),
        ],
    )

    def __init__(self, *args, editing=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing


class MemberForm(Form):
    username = StringField(
        _l("Username"),
        filters=[strip],
        validators=[
            DataRequired(_l("Enter a username.")),
            Length(max=150, message=_l("Usernames are at most 150 characters long.")),
        ],
    )

    def validate_username(self, field):
        self.user = find_user(field.data, ("username",))
        if self.user is None:
            raise ValidationError(_("There is no user named %(field)s.", field=field.data))


# -- GET forms: searches and filters ---------------------------------------------------------


class UserSearchForm(wtforms.Form):
    q = StringField(
        _l("Search"),
        filters=[strip],
        validators=[Length(max=200, message=_l("Search for at most 200 characters."))],
    )
