import dataclasses
from dataclasses import dataclass
from typing import Literal

from idp.core.forms import Form
from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.flows.context import PROMPT_KEY_PATTERN as KEY_PATTERN
from idp.policies.expression import compile_expression
from idp.stages.prompt.values import parse_checked, parse_date, parse_date_time, parse_number

# Keys that would replace attributes the form needs (meta, process, validate, ...).
RESERVED_KEYS = {"csrf_token", "meta", "form_errors"} | {
    name for name in dir(Form) if not name.startswith("_")
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
FIELD_TYPE_WORDS = {
    "text": N_("Text"),
    "textarea": N_("Text, several lines"),
    "username": N_("Username (checked like one)"),
    "email": N_("Email address"),
    "password": N_("Password"),
    "number": N_("Number"),
    "checkbox": N_("Checkbox"),
    "dropdown": N_("Dropdown: one of the choices"),
    "radio": N_("Radio buttons: one of the choices"),
    "date": N_("Date"),
    "date-time": N_("Date and time"),
    "hidden": N_("Hidden: sent with the form, not shown"),
    "static": N_("Static: words shown, nothing asked"),
    "separator": N_("Separator: a line between fields"),
}
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
    key: str = option(
        dataclasses.MISSING,
        N_(
            "The answer's name in the flow (prompt_data.<key>) and the form field's name: "
            "lower-case letters, digits and _."
        ),
    )
    label: str = option("", N_("What the visitor reads next to the field."))
    type: FieldType = option(
        "text",
        N_("What kind of field: text, a password, a choice, a date, or words only (static)."),
        choices=FIELD_TYPE_WORDS,
    )
    required: bool = option(False, N_("The form is refused while the field is empty."))
    placeholder: str = option("", N_("Grey example text inside the empty field."))
    initial_value: str = option("", N_("What the field holds when the form is first shown."))
    # It fails to nothing: an empty field.
    initial_value_expression: str = option(
        "",
        N_(
            "An expression whose value is the initial value instead, such as user.email (leave "
            "the initial value empty to use it)."
        ),
    )
    help_text: str = option("", N_("A line of help under the field."))
    order: int = option(0, N_("Fields are shown by this number, lowest first."))
    choices: tuple[str, ...] = option(
        (), N_("For dropdown and radio fields: the only answers accepted, in the order shown.")
    )

    def validate(self):
        if not KEY_PATTERN.match(self.key) or self.key in RESERVED_KEYS:
            raise OptionsError(
                "key",
                N_("%(key)s must be lower-case letters, digits and _ (dots for nesting)"),
                key=repr(self.key),
            )
        if self.type in CHOICE_TYPES:
            self._validate_choices()
        elif self.choices:
            raise OptionsError("choices", N_("only dropdown and radio fields have choices"))
        if self.initial_value_expression:
            self._validate_expression()
        parser = INITIAL_VALUE_PARSERS.get(self.type)
        if parser is not None and self.initial_value:
            try:
                parser(self.initial_value)
            except ValueError:
                raise OptionsError(
                    "initial_value",
                    N_("%(initial_value)s is not a valid %(type)s value"),
                    initial_value=repr(self.initial_value),
                    type=self.type,
                ) from None

    def _validate_expression(self):
        if self.initial_value:
            raise OptionsError(
                "initial_value_expression", N_("leave initial_value empty to use it")
            )
        try:
            compile_expression(self.initial_value_expression)
        except OptionsError as error:
            raise OptionsError("initial_value_expression", error.template, **error.values) from None

    def _validate_choices(self):
        if not 1 <= len(self.choices) <= MAX_CHOICES:
            raise OptionsError(
                "choices",
                N_("a %(type)s field needs 1 to %(max_choices)s choices"),
                type=self.type,
                max_choices=MAX_CHOICES,
            )
        for index, choice in enumerate(self.choices):
            if not choice.strip() or len(choice) > MAX_CHOICE_LENGTH:
                raise OptionsError(
                    f"choices[{index}]",
                    N_("must be 1 to %(max_choice_length)s characters"),
                    max_choice_length=MAX_CHOICE_LENGTH,
                )
            if choice in self.choices[:index]:
                raise OptionsError(
                    f"choices[{index}]", N_("%(choice)s is listed twice"), choice=repr(choice)
                )
        if self.initial_value and self.initial_value not in self.choices:
            raise OptionsError("initial_value", N_("must be one of the choices"))


@dataclass(frozen=True)
class PromptOptions:
    fields: tuple[PromptField, ...] = option((), N_("The fields of the form, in order."))
    validation_policies: tuple[str, ...] = option(
        (),
        N_(
            "Names of policies every answer must pass, one per line (a password policy, say); "
            "their messages are shown at the form."
        ),
    )

    def validate(self):
        keys = [field.key for field in self.fields]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                raise OptionsError(
                    f"fields[{index}].key", N_("%(key)s is used twice"), key=repr(key)
                )
        if len(self.password_fields) > 2:
            raise OptionsError(
                "fields", N_("at most two password fields (a password and its repeat)")
            )

    @property
    def ordered_fields(self) -> list[PromptField]:
        return sorted(self.fields, key=lambda field: field.order)

    @property
    def password_fields(self) -> list[PromptField]:
        return [field for field in self.ordered_fields if field.type == "password"]
