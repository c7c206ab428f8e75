from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

from idp.accounts import username_taken
from idp.passwords import MAX_PASSWORD_LENGTH

USERNAME_PATTERN = r"^[\w.@+-]+$"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _username_is_free(form, field):
    if field.data and username_taken(field.data.strip()):
        raise ValidationError("This username is taken.")


def _field_for(prompt_field):
    presence = (
        InputRequired(message=f"{prompt_field.label or prompt_field.key} is required.")
        if prompt_field.required
        else Optional()
    )
    kinds = {
        "text": lambda: StringField(validators=[presence, Length(max=2000)]),
        "username": lambda: StringField(
            validators=[
                presence,
                Length(max=150),
                Regexp(USERNAME_PATTERN, message="Use letters, digits and . @ + - _ only."),
                _username_is_free,
            ]
        ),
        "email": lambda: StringField(
            validators=[
                presence,
                Length(max=254),
                Regexp(EMAIL_PATTERN, message="Please enter a valid email address."),
            ]
        ),
        "password": lambda: PasswordField(
            validators=[
                presence,
                Length(
                    max=MAX_PASSWORD_LENGTH,
                    message=f"Passwords are at most {MAX_PASSWORD_LENGTH} characters long.",
                ),
            ]
        ),
        "hidden": lambda: HiddenField(),
    }
    return kinds[prompt_field.type]()


def build_prompt_form_class(options) -> type[FlaskForm]:
    """A form class with one field per prompt field; field names are the configured keys."""
    form_class = type("PromptForm", (FlaskForm,), {})
    for prompt_field in options.ordered_fields:
        if prompt_field.type != "static":
            setattr(form_class, prompt_field.key, _field_for(prompt_field))
    return form_class
