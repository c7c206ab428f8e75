"""Settings forms built from a type's options dataclass, so no type writes its admin form by
hand: each package's `OptionsForm = options_form_for(TheOptions)`.

The form only carries values; `parse_options` stays the one validator. Its OptionsError is
shown next to the field it names, or above the form when it names none.
"""

import dataclasses
import functools
import types
import typing
from typing import Literal

from flask_babel import gettext
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from idp.core.forms import Form
from idp.core.i18n import N_, LazyText, lazy_text
from idp.core.options import (
    OptionsError,
    help_of,
    options_to_mapping,
    parse_options,
    secret_options,
)

YAML_HELP = N_("Written in YAML.")
YAML_LIST_HELP = N_("Written in YAML: a list, one entry per item starting with a dash.")
SECRET_HELP = N_("Not shown again; leave it empty to keep the one saved.")
LINES_HELP = N_("One per line.")
# Field names carry this prefix, so an option can never take the name of a field beside it.
PREFIX = "option-"


class OptionsForm(Form):
    """The settings of one type. Built by `options_form_for`; CSRF is the page form's job."""

    options_class: type = None
    # How each option's text is read back: option name -> function(field) -> value.
    readers: dict = {}
    # Options never shown back (a captcha's secret key): left empty, the stored one stays.
    secrets: frozenset = frozenset()
    # A template whose `options_editor(form)` macro draws the settings, for a form that needs
    # more than one field per option (the prompt stage's field editor); None: one field each.
    editor: str | None = None
    # True when the form was sent to change its own layout (add a row), not to be saved.
    is_rearranged: bool = False

    def __init__(self, *args, stored: dict | None = None, **kwargs):
        super().__init__(*args, prefix=PREFIX, meta={"csrf": False}, **kwargs)
        self.stored = stored or {}

    @classmethod
    def prefilled(cls, stored: dict | None) -> "OptionsForm":
        """The form showing `stored` options, with defaults for those not stored."""
        values = {**_defaults(cls.options_class), **_known(cls.options_class, stored)}
        hints = typing.get_type_hints(cls.options_class)
        data = {name: _shown(hints[name], value) for name, value in values.items()}
        return cls(formdata=None, data=data, stored=stored)

    @classmethod
    def submitted(cls, stored: dict | None) -> "OptionsForm":
        """The form as the request sent it; an editor may answer with a rearranged one."""
        return cls(stored=stored)

    @property
    def option_fields(self) -> list:
        return [field for field in self if field.short_name in self.readers]

    def parsed(self) -> dict | None:
        """The submitted options as stored (JSON), or None with the errors set."""
        try:
            mapping = {name: read(self[name]) for name, read in self.readers.items()}
            for name in self.secrets:
                mapping[name] = mapping[name] or self.stored.get(name, "")
            return options_to_mapping(parse_options(self.options_class, mapping))
        except OptionsError as error:
            self.place_error(error)
            return None

    def place_error(self, error: OptionsError) -> None:
        name, _, rest = error.place.replace("[", ".[", 1).partition(".")
        message = f"{rest}: {error.in_words()}" if rest else error.in_words()
        if name in self.readers:
            self[name].errors = [*self[name].errors, message]
        else:
            words = error.in_words()
            self.form_errors = [
                *self.form_errors,
                f"{error.place}: {words}" if error.place else words,
            ]


@functools.cache
def options_form_for(options_class: type) -> type[OptionsForm]:
    hints = typing.get_type_hints(options_class)
    secrets = frozenset(secret_options(options_class))
    attributes = {"options_class": options_class, "readers": {}, "secrets": secrets}
    for option in dataclasses.fields(options_class):
        if hasattr(OptionsForm, option.name):
            raise TypeError(f"the option name {option.name!r} is taken by the form itself")
        hint = _without_none(hints[option.name])
        field, reader = _field_for(option, hint, is_secret=option.name in secrets)
        attributes[option.name] = field
        attributes["readers"][option.name] = reader
    return type(f"{options_class.__name__}Form", (OptionsForm,), attributes)


def _label(option) -> LazyText:
    """The option's name as words, in the page's language (idp/core/option_labels.py lists
    them for the catalogs)."""
    return lazy_text(label_of(option.name))


def label_of(name: str) -> str:
    return name.replace("_", " ").capitalize()


def described(*parts: str) -> LazyText:
    """The help under a field: the option's words and any the field adds, each translated
    when the page is drawn (forms are built once, at import)."""
    return LazyText(lambda: " ".join(gettext(part) for part in parts if part))


def _field_for(option, hint, is_secret: bool = False):
    label = _label(option)
    help_text = described(help_of(option))
    labels = option.metadata.get("choices") or {}
    origin = typing.get_origin(hint)
    if origin is Literal:
        return _select(label, typing.get_args(hint), labels, help_text), _data
    if origin is tuple:
        return _sequence_field(label, typing.get_args(hint)[0], labels, help_of(option))
    if dataclasses.is_dataclass(hint):
        description = described(help_of(option), YAML_HELP)
        return TextAreaField(label, description=description, render_kw={"rows": 8}), _yaml
    if hint is bool:
        return BooleanField(label, description=help_text), _data
    if hint is int:
        return IntegerField(label, description=help_text), _whole_number
    if is_secret:
        description = described(help_of(option), SECRET_HELP)
        return PasswordField(label, description=description), _text
    if option.metadata.get("long_text"):
        return TextAreaField(label, description=help_text, render_kw={"rows": 6}), _text
    return StringField(label, description=help_text), _text


def _sequence_field(label, item_hint, labels: dict, help_text: str):
    if typing.get_origin(item_hint) is Literal:
        choices = typing.get_args(item_hint)
        field = SelectMultipleField(
            label,
            choices=_labelled(choices, labels),
            coerce=_coerce_to(choices),
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            description=described(help_text),
        )
        return field, _data
    if dataclasses.is_dataclass(item_hint):
        description = described(help_text, YAML_LIST_HELP)
        return TextAreaField(label, description=description, render_kw={"rows": 12}), _yaml
    description = described(help_text, LINES_HELP)
    return TextAreaField(label, description=description, render_kw={"rows": 4}), _lines


def _select(label, choices: tuple, labels: dict, help_text: str) -> SelectField:
    return SelectField(
        label,
        choices=_labelled(choices, labels),
        coerce=_coerce_to(choices),
        description=help_text,
    )


def _labelled(choices: tuple, labels: dict) -> list[SelectChoice]:
    """Each choice with its words: those the option gives it, else the value itself."""
    return [
        SelectChoice(str(choice), lazy_text(labels[choice]) if choice in labels else str(choice))
        for choice in choices
    ]


def _coerce_to(choices: tuple):
    """Back from the form's text to the choice itself (Literal[6, 8] holds numbers)."""
    by_text = {str(choice): choice for choice in choices}
    return lambda value: by_text.get(str(value), value)


def _without_none(hint):
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(argument for argument in typing.get_args(hint) if argument is not type(None))
    return hint


def _data(field):
    return field.data


def _text(field) -> str:
    return field.data or ""


def _whole_number(field):
    # Not a number: the text goes on to parse_options, which says what is wrong with it.
    if field.data is not None:
        return field.data
    return field.raw_data[0] if field.raw_data else ""


def _lines(field) -> list[str]:
    return [line.strip() for line in (field.data or "").splitlines() if line.strip()]


def _yaml(field):
    import yaml  # only the admin's settings forms read or write YAML

    try:
        value = yaml.safe_load(field.data or "")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise OptionsError(field.short_name, f"is not valid YAML{where}") from None
    return [] if value is None else value


def _defaults(options_class: type) -> dict:
    return options_to_mapping(options_class())


def _known(options_class: type, stored) -> dict:
    names = {option.name for option in dataclasses.fields(options_class)}
    return {key: value for key, value in (stored or {}).items() if key in names}


def _shown(hint, value):
    """A stored value as its field shows it."""
    hint = _without_none(hint)
    if typing.get_origin(hint) is tuple:
        item_hint = typing.get_args(hint)[0]
        if typing.get_origin(item_hint) is Literal:
            return list(value or ())
        if dataclasses.is_dataclass(item_hint):
            return _as_yaml(value)
        return "\n".join(str(item) for item in value or ())
    if dataclasses.is_dataclass(hint):
        return _as_yaml(value)
    return value


def _as_yaml(value) -> str:
    if not value:
        return ""
    import yaml

    return yaml.safe_dump(value, sort_keys=False, allow_unicode=True)
