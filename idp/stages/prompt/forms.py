"""The prompt's form, built from its options: one field per prompt field, named by its key.

FIELD_KINDS is the one table of field types: how each is asked, how its answer is kept (a
JSON-safe value in `prompt_data`) and which HTML attributes its input gets.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    AnyOf,
    InputRequired,
    Length,
    Optional,
    Regexp,
    StopValidation,
    ValidationError,
)
from wtforms.widgets import DateInput, DateTimeLocalInput, NumberInput

from idp.core.forms import Form, one_line
from idp.core.i18n import translated
from idp.credentials.passwords import MAX_PASSWORD_LENGTH
from idp.identity.signups import username_is_free
from idp.identity.usernames import (
    EMAIL_MAX_LENGTH,
    EMAIL_PATTERN,
    USERNAME_MAX_LENGTH,
    USERNAME_PATTERN,
    new_username_problem,
)
from idp.stages.prompt.passwords import KeptPasswordInput
from idp.stages.prompt.values import parse_checked, parse_date, parse_date_time, parse_number

MAX_TEXT_LENGTH = 2000
MAX_TEXTAREA_LENGTH = 10000
# Longer than any number, date or time a parsed field accepts: refused before parsing.
MAX_PARSED_LENGTH = 64
CHOICE_MESSAGE = _l("Please choose one of the listed options.")


class Answered(InputRequired):
    """InputRequired, where blank text counts as no answer."""

    def __call__(self, form, field):
        if field.raw_data and str(field.raw_data[0]).strip():
            return
        field.errors[:] = []
        raise StopValidation(self.message)


class ParsedField(StringField):
    """A text input read by `parse` into a JSON-safe value; text it cannot read is a field
    error that says what is expected."""

    def __init__(self, parse, message, **kwargs):
        super().__init__(**kwargs)
        self.parse = parse
        self.message = message

    def process_formdata(self, valuelist):
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        if len(text) > MAX_PARSED_LENGTH:
            raise ValueError(self.message)
        try:
            self.data = self.parse(text)
        except ValueError:
            raise ValueError(self.message) from None

    def _value(self):
        # Shown again as typed, so a mistake can be corrected rather than retyped.
        if self.raw_data:
            return self.raw_data[0][: MAX_PARSED_LENGTH + 1]
        return "" if self.data is None else str(self.data)


def _username_is_plain(form, field):
    problem = new_username_problem(field.data or "")
    if problem:
        raise ValidationError(translated(problem))


def _username_is_free(form, field):
    # The same answer whether an active, a disabled or an unconfirmed account holds the name.
    if field.data and not username_is_free(field.data):
        raise ValidationError(_l("This username is taken."))


def _stripped(data) -> str:
    return (data or "").strip()


def _multiline(data) -> str:
    return (data or "").replace("\r\n", "\n").strip()


def _as_is(data):
    return data


def _text_length(limit: int) -> Length:
    return Length(max=limit, message=_l("Please keep this under %(num)d characters.", num=limit))


@dataclass(frozen=True)
class FieldKind:
    """How one prompt field type is asked and kept."""

    # The form field, given the field's options and its required/optional validator; None
    # for a field that shows something and posts nothing.
    build: Callable[[Any, Any], Any] | None
    # The submitted data as the JSON-safe value kept in prompt_data.
    answer: Callable[[Any], Any] = _stripped
    # An option's initial_value as the form field's data; None: never shown back.
    initial: Callable[[str], Any] | None = _as_is
    # Attributes of the rendered input (autocomplete, input type).
    attributes: Mapping[str, str] = field(default_factory=dict)
    # The value is the option's initial_value whatever was posted (static, hidden).
    is_fixed: bool = False
    # The field has a value in prompt_data at all (a separator has none).
    is_kept: bool = True
    # Free text that may have a placeholder.
    takes_placeholder: bool = False


def _parsed(parse, message, widget) -> Callable:
    return lambda prompt_field, presence: ParsedField(
        parse, message, validators=[presence], widget=widget
    )


FIELD_KINDS: dict[str, FieldKind] = {
    "text": FieldKind(
        build=lambda prompt_field, presence: StringField(
            validators=[presence, _text_length(MAX_TEXT_LENGTH), one_line]
        ),
        attributes={"autocomplete": "off"},
        takes_placeholder=True,
    ),
    "textarea": FieldKind(
        build=lambda prompt_field, presence: TextAreaField(
            validators=[presence, _text_length(MAX_TEXTAREA_LENGTH)]
        ),
        answer=_multiline,
        takes_placeholder=True,
    ),
    "username": FieldKind(
        build=lambda prompt_field, presence: StringField(
            validators=[
                presence,
                Length(
                    max=USERNAME_MAX_LENGTH,
                    message=_l(
                        "Usernames are at most %(num)d characters long.", num=USERNAME_MAX_LENGTH
                    ),
                ),
                Regexp(USERNAME_PATTERN, message=_l("Use letters, digits and . @ + - _ only.")),
                _username_is_plain,
                _username_is_free,
            ]
        ),
        attributes={"autocomplete": "username"},
        takes_placeholder=True,
    ),
    "email": FieldKind(
        build=lambda prompt_field, presence: StringField(
            validators=[
                presence,
                Length(
                    max=EMAIL_MAX_LENGTH,
                    message=_l(
                        "Email addresses are at most %(num)d characters long.",
                        num=EMAIL_MAX_LENGTH,
                    ),
                ),
                Regexp(EMAIL_PATTERN, message=_l("Please enter a valid email address.")),
            ]
        ),
        attributes={"autocomplete": "email", "type": "email"},
        takes_placeholder=True,
    ),
    "password": FieldKind(
        build=lambda prompt_field, presence: PasswordField(
            widget=KeptPasswordInput(),
            validators=[
                presence,
                Length(
                    max=MAX_PASSWORD_LENGTH,
                    message=_l(
                        "Passwords are at most %(num)d characters long.", num=MAX_PASSWORD_LENGTH
                    ),
                ),
            ],
        ),
        answer=lambda data: data or "",  # spaces around a password are part of it
        initial=None,
        attributes={"autocomplete": "new-password"},
        takes_placeholder=True,
    ),
    "number": FieldKind(
        build=_parsed(
            parse_number, _l("Please enter a number, like 42 or 3.5."), NumberInput(step="any")
        ),
        answer=_as_is,
        attributes={"autocomplete": "off"},
        takes_placeholder=True,
    ),
    "checkbox": FieldKind(
        build=lambda prompt_field, presence: BooleanField(validators=[presence]),
        answer=bool,
        initial=parse_checked,
    ),
    "dropdown": FieldKind(
        build=lambda prompt_field, presence: SelectField(
            choices=[
                SelectChoice("", translated(prompt_field.placeholder) or _("Choose…")),
                *prompt_field.choices,
            ],
            validate_choice=False,
            validators=[presence, AnyOf(prompt_field.choices, message=CHOICE_MESSAGE)],
        ),
    ),
    "radio": FieldKind(
        build=lambda prompt_field, presence: RadioField(
            choices=list(prompt_field.choices),
            validate_choice=False,
            validators=[presence, AnyOf(prompt_field.choices, message=CHOICE_MESSAGE)],
        ),
    ),
    "date": FieldKind(
        build=_parsed(parse_date, _l("Please enter a date like 2024-05-31."), DateInput()),
        answer=_as_is,
    ),
    "date-time": FieldKind(
        build=_parsed(
            parse_date_time,
            "Please enter a date and time like 2024-05-31T14:30.",
            DateTimeLocalInput(),
        ),
        answer=_as_is,
    ),
    "hidden": FieldKind(build=lambda prompt_field, presence: HiddenField(), is_fixed=True),
    "static": FieldKind(build=None, is_fixed=True),
    "separator": FieldKind(build=None, is_kept=False),
}


def _presence(prompt_field):
    if not prompt_field.required:
        return Optional()
    return Answered(
        message=_l(
            "%(field)s is required.", field=translated(prompt_field.label) or prompt_field.key
        )
    )


class PromptForm(Form):
    """A prompt's form. The stage may set `check_answers(form) -> bool`, run once the fields
    are validated whether or not they all passed, so every problem is shown at once."""

    check_answers = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for form_field in self:
            form_field.owner_form = self  # a kept password asks its form (prompt.passwords)

    def validate(self, extra_validators=None):
        valid = super().validate(extra_validators)
        if self.check_answers is not None:
            valid = self.check_answers(self) and valid
        return valid


def build_prompt_form_class(options) -> type[Form]:
    """A form class with one field per prompt field; field names are the configured keys."""
    form_class = type("PromptForm", (PromptForm,), {})
    for prompt_field in options.ordered_fields:
        kind = FIELD_KINDS[prompt_field.type]
        if kind.build is not None:
            setattr(form_class, prompt_field.key, kind.build(prompt_field, _presence(prompt_field)))
    return form_class


def fill_initial_values(form, options, initial_values: Mapping[str, str]) -> None:
    """`initial_values` by key: the options' own, or what their expressions gave."""
    for prompt_field in options.ordered_fields:
        kind = FIELD_KINDS[prompt_field.type]
        value = initial_values.get(prompt_field.key, "")
        if kind.build is None or kind.initial is None or not value:
            continue
        try:
            form[prompt_field.key].data = kind.initial(value)
        except ValueError:
            continue  # an expression's value that this type cannot show starts it empty


def answers_of(form, options, initial_values: Mapping[str, str]) -> dict:
    """The answers as JSON-safe values by key. A fixed value is never one the visitor could
    have edited."""
    answers = {}
    for prompt_field in options.ordered_fields:
        kind = FIELD_KINDS[prompt_field.type]
        if not kind.is_kept:
            continue
        if kind.is_fixed:
            answers[prompt_field.key] = initial_values.get(prompt_field.key, "")
        else:
            answers[prompt_field.key] = kind.answer(form[prompt_field.key].data)
    return answers


def input_attributes(options) -> dict[str, dict]:
    """Each asked field's input attributes; the first one takes the focus."""
    attributes = {}
    for prompt_field in options.ordered_fields:
        kind = FIELD_KINDS[prompt_field.type]
        if kind.build is None or kind.is_fixed:
            continue
        attributes[prompt_field.key] = {
            **kind.attributes,
            "placeholder": (prompt_field.placeholder or None) if kind.takes_placeholder else None,
            "autofocus": not attributes,
        }
    return attributes


# The admin's settings form for this type.
