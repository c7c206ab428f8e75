from dataclasses import dataclass
from typing import Literal

from flask_wtf import FlaskForm

from idp.core.options import OptionsError
from idp.flows.context import PROMPT_KEY_PATTERN as KEY_PATTERN
from idp.stages.prompt.values import parse_checked, parse_date, parse_date_time, parse_number

# Keys that would replace attributes the form needs (meta, process, validate, ...).
RESERVED_KEYS = {"csrf_token", "meta", "form_errors"} | {
    name for name in dir(FlaskForm) if not name.startswith("_")
}

FieldType = Literal[
    "text",
    "textarea",
    "username",
    "email",
    "password",
    "number",
    "checkbox",
    "dropdown",
    "radio",
    "date",
    "date-time",
    "hidden",
    "static",
    "separator",
]
CHOICE_TYPES = ("dropdown", "radio")
MAX_CHOICES = 100
MAX_CHOICE_LENGTH = 200
# How an initial value is read for types that are not plain text.
INITIAL_VALUE_PARSERS = {
    "number": parse_number,
    "checkbox": parse_checked,
    "date": parse_date,
    "date-time": parse_date_time,
}


@dataclass(frozen=True)
class PromptField:
    key: str
    label: str = ""
    type: FieldType = "text"
    required: bool = False
    placeholder: str = ""
    initial_value: str = ""
    help_text: str = ""
    order: int = 0
    # The only answers a dropdown or radio field accepts, in the order shown.
    choices: tuple[str, ...] = ()

    def validate(self):
        if not KEY_PATTERN.match(self.key) or self.key in RESERVED_KEYS:
            raise OptionsError(
                "key", f"{self.key!r} must be lower-case letters, digits and _ (dots for nesting)"
            )
        if self.type in CHOICE_TYPES:
            self._validate_choices()
        elif self.choices:
            raise OptionsError("choices", "only dropdown and radio fields have choices")
        parser = INITIAL_VALUE_PARSERS.get(self.type)
        if parser is not None and self.initial_value:
            try:
                parser(self.initial_value)
            except ValueError:
                raise OptionsError(
                    "initial_value", f"{self.initial_value!r} is not a valid {self.type} value"
                ) from None

    def _validate_choices(self):
        if not 1 <= len(self.choices) <= MAX_CHOICES:
            raise OptionsError("choices", f"a {self.type} field needs 1 to {MAX_CHOICES} choices")
        for index, choice in enumerate(self.choices):
            if not choice.strip() or len(choice) > MAX_CHOICE_LENGTH:
                raise OptionsError(
                    f"choices[{index}]", f"must be 1 to {MAX_CHOICE_LENGTH} characters"
                )
            if choice in self.choices[:index]:
                raise OptionsError(f"choices[{index}]", f"{choice!r} is listed twice")
        if self.initial_value and self.initial_value not in self.choices:
            raise OptionsError("initial_value", "must be one of the choices")


@dataclass(frozen=True)
class PromptOptions:
    fields: tuple[PromptField, ...] = ()
    # Policies every answer must pass (a password policy, say); their messages are shown.
    validation_policies: tuple[str, ...] = ()

    def validate(self):
        keys = [field.key for field in self.fields]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                raise OptionsError(f"fields[{index}].key", f"{key!r} is used twice")
        if len(self.password_fields) > 2:
            raise OptionsError("fields", "at most two password fields (a password and its repeat)")

    @property
    def ordered_fields(self) -> list[PromptField]:
        return sorted(self.fields, key=lambda field: field.order)

    @property
    def password_fields(self) -> list[PromptField]:
        return [field for field in self.ordered_fields if field.type == "password"]
