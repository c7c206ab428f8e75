"""The admin's editor of a prompt stage's fields: one row per field (key, label, type, required,
placeholder, help text, choices, initial value), with buttons that add, remove and move rows,
and the same fields as YAML on request. Works without JavaScript: each button is a submit
button of the settings form, and the page comes back rearranged, unsaved, until Save.

`parse_options` stays the one validator: each row is checked on its own (so every row's
problems show at once, next to their fields), then the fields together."""

import dataclasses

from flask import request
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from idp.core.i18n import N_
from idp.core.i18n import lazy_text as _l
from idp.core.numbers import whole_number
from idp.core.options import OptionsError, help_of, options_to_mapping, parse_options
from idp.core.options_forms import LINES_HELP, PREFIX, YAML_LIST_HELP, OptionsForm, described
from idp.stages.prompt.options import FIELD_TYPE_WORDS, PromptField, PromptOptions

# The submit buttons' name, and what their values ask for.
ACTION = "editor_action"
ADD, TO_YAML, TO_ROWS = "add", "yaml", "rows"
MOVES = ("up", "down", "remove")
ROWS, YAML = "rows", "yaml"
STEP = 10
# A new row's values: PromptField's defaults, with an empty key (PromptField has none).
DEFAULTS = {field.name: field.default for field in dataclasses.fields(PromptField)}
DEFAULTS["key"] = ""
# Each help text in the page's language, when the page is drawn.
HELP = {field.name: described(help_of(field)) for field in dataclasses.fields(PromptField)}


def help_of_option(options_class, name: str) -> str:
    return next(help_of(f) for f in dataclasses.fields(options_class) if f.name == name)


FIELDS_HELP, POLICIES_HELP = (
    described(help_of(field)) for field in dataclasses.fields(PromptOptions)
)


class PromptFieldRow(Form):
    """One field of the prompt, as the editor shows it."""

    key = StringField(_l("Key"), description=HELP["key"])
    label = StringField(_l("Label"), description=HELP["label"])
    type = SelectField(
        _l("Type"),
        choices=[SelectChoice(value, _l(words)) for value, words in FIELD_TYPE_WORDS.items()],
        description=HELP["type"],
        validate_choice=False,  # parse_options names a wrong type, next to the field
    )
    required = BooleanField(_l("Required"), description=HELP["required"])
    placeholder = StringField(_l("Placeholder"), description=HELP["placeholder"])
    help_text = StringField(_l("Help text"), description=HELP["help_text"])
    choices = TextAreaField(
        _l("Choices"),
        description=described(help_of_option(PromptField, "choices"), LINES_HELP),
        render_kw={"rows": 3},
    )
    initial_value = StringField(_l("Initial value"), description=HELP["initial_value"])
    initial_value_expression = StringField(
        _l("Initial value expression"), description=HELP["initial_value_expression"]
    )
    order = HiddenField()

    def stored(self) -> dict:
        """The row as a field's options, not yet checked."""
        data = {name: self[name].data for name in DEFAULTS if name not in ("order", "choices")}
        data = {name: value or DEFAULTS[name] for name, value in data.items()}
        data["required"] = bool(self.required.data)
        data["choices"] = _lines(self.choices.data)
        data["order"] = _whole(self.order.data)
        return data


class PromptOptionsForm(OptionsForm):
    options_class = PromptOptions
    editor = "stages/prompt/admin_editor.html"
    readers = {
        "fields": lambda field: _read_yaml(field.data),
        "validation_policies": lambda field: _lines(field.data),
    }

    # rows or yaml; absent when a script sends the YAML field alone.
    editor_mode = HiddenField()
    rows = FieldList(FormField(PromptFieldRow), min_entries=0)
    fields = TextAreaField(
        _l("Fields"),
        description=described(help_of_option(PromptOptions, "fields"), YAML_LIST_HELP),
        render_kw={"rows": 14},
    )
    validation_policies = TextAreaField(
        _l("Validation policies"), description=POLICIES_HELP, render_kw={"rows": 3}
    )
    fields_help = FIELDS_HELP

    # -- showing ---------------------------------------------------------------------------

    @classmethod
    def prefilled(cls, stored: dict | None) -> "PromptOptionsForm":
        stored = stored or {}
        fields = sorted(stored.get("fields") or [], key=lambda item: item.get("order", 0))
        mode = YAML if request.args.get("editor") == YAML else ROWS
        return cls.showing(fields, stored.get("validation_policies") or [], mode, stored)

    @classmethod
    def showing(cls, fields: list[dict], policies: list, mode: str, stored: dict):
        data = {
            "editor_mode": mode,
            "rows": [_row_data(item) for item in fields] if mode == ROWS else [],
            "fields": _as_yaml(fields) if mode == YAML else "",
            "validation_policies": "\n".join(str(name) for name in policies),
        }
        return cls(formdata=None, data=data, stored=stored)

    @property
    def option_fields(self) -> list:
        shown = [self.fields] if self.is_yaml else []
        return [*shown, self.validation_policies]

    @property
    def is_yaml(self) -> bool:
        mode = self.editor_mode.data
        if mode in (ROWS, YAML):
            return mode == YAML
        # Sent by a script (or an older page) that only knows the YAML field.
        return f"{PREFIX}fields" in request.form

    # -- rearranging -----------------------------------------------------------------------

    @classmethod
    def submitted(cls, stored: dict | None) -> "PromptOptionsForm":
        form = cls(stored=stored)
        action = request.form.get(f"{PREFIX}{ACTION}", "")
        return form.rearranged(action) if action else form

    def rearranged(self, action: str) -> "PromptOptionsForm":
        """The form after an editor button: rows added, removed, moved, or the other mode.
        Nothing is checked or saved; a YAML text that cannot be read stays, with why."""
        policies = _lines(self.validation_policies.data)
        if self.is_yaml:
            try:
                fields = _read_yaml(self.fields.data)
            except OptionsError as error:
                self.fields.errors = [error.in_words()]
                self.is_rearranged = True
                return self
            return self._again(fields, policies, ROWS if action == TO_ROWS else YAML)
        fields = [entry.form.stored() for entry in self.rows]
        if action == TO_YAML:
            return self._again(fields, policies, YAML)
        return self._again(_moved(fields, action), policies, ROWS)

    def _again(self, fields, policies, mode) -> "PromptOptionsForm":
        form = self.showing(fields, policies, mode, self.stored)
        form.is_rearranged = True
        return form

    # -- reading ---------------------------------------------------------------------------

    def parsed(self) -> dict | None:
        policies = _lines(self.validation_policies.data)
        try:
            fields = _read_yaml(self.fields.data) if self.is_yaml else self._checked_rows()
            options = {"fields": fields, "validation_policies": policies}
            return options_to_mapping(parse_options(PromptOptions, options))
        except OptionsError as error:
            self.place_error(error)
            return None
        except RowsRefused:
            return None

    def _checked_rows(self) -> list[dict]:
        """Each row as a field's options; RowsRefused once every row's problems are placed."""
        fields, is_refused = [], False
        for entry in self.rows:
            row = entry.form
            fields.append(row.stored())
            try:
                parse_options(PromptField, fields[-1])
            except OptionsError as error:
                _place_in_row(row, error.place, error.in_words())
                is_refused = True
        if is_refused:
            raise RowsRefused
        return fields

    def place_error(self, error: OptionsError) -> None:
        name, index, rest = _split_place(error.place)
        if name == "fields" and index is not None and not self.is_yaml:
            _place_in_row(self.rows[index].form, rest, error.in_words())
        elif name == "fields" and not self.is_yaml:
            self.form_errors = [*self.form_errors, error.in_words()]
        else:
            super().place_error(error)


class RowsRefused(Exception):
    """One row or more has a problem, each placed next to its field."""


def _split_place(place: str) -> tuple[str, int | None, str]:
    """'fields[2].key' -> ('fields', 2, 'key'); 'fields' -> ('fields', None, '')."""
    name, _, rest = place.partition("[")
    if not rest:
        name, _, rest = place.partition(".")
        return name, None, rest
    index, _, rest = rest.partition("]")
    return name, whole_number(index), rest.lstrip(".")


def _place_in_row(row: PromptFieldRow, place: str, message: str) -> None:
    """An error of one field's options next to the input it names (`choices[1]`: choices)."""
    name = place.split("[", 1)[0].split(".", 1)[0] or "key"
    detail = place[len(name) :].lstrip(".")
    target = row[name] if name in DEFAULTS and name != "order" else row.key
    target.errors = [*target.errors, f"{detail}: {message}" if detail else message]


def _moved(fields: list[dict], action: str) -> list[dict]:
    """The fields after `action`: add a row at the end, or move/remove the row it names."""
    fields = [dict(item) for item in fields]
    if action == ADD:
        last = max((_whole(item.get("order")) for item in fields), default=0)
        return [*fields, {**DEFAULTS, "key": "", "order": last + STEP if fields else 0}]
    move, _, number = action.partition("-")
    index = whole_number(number)
    if move not in MOVES or index is None or index >= len(fields):
        return fields
    if move == "remove":
        return fields[:index] + fields[index + 1 :]
    other = index - 1 if move == "up" else index + 1
    if not 0 <= other < len(fields):
        return fields
    if len({_whole(item.get("order")) for item in fields}) < len(fields):
        # Equal orders would keep their places when sorted: spread them out first.
        for position, item in enumerate(fields):
            item["order"] = position * STEP
    fields[index]["order"], fields[other]["order"] = fields[other]["order"], fields[index]["order"]
    fields[index], fields[other] = fields[other], fields[index]
    return fields


def _row_data(item: dict) -> dict:
    """A stored (or YAML) field as a row shows it."""
    data = {**DEFAULTS, **{key: value for key, value in item.items() if key in DEFAULTS}}
    choices = data["choices"]
    data["choices"] = "\n".join(str(choice) for choice in choices) if choices else ""
    return {name: ("" if value is None else value) for name, value in data.items()}


def _read_yaml(text: str | None) -> list:
    import yaml  # only the admin's editor reads or writes YAML: not imported by every worker

    try:
        value = yaml.safe_load(text or "")
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise OptionsError("fields", N_("is not valid YAML%(where)s"), where=where) from None
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise OptionsError("fields", _l("must be a list of fields, each starting with a dash"))
    return value


def _as_yaml(fields: list[dict]) -> str:
    """The fields as YAML, each with only what differs from the defaults."""
    import yaml  # as in _read_yaml

    shown = [
        {
            key: list(value) if isinstance(value, list | tuple) else value
            for key, value in item.items()
            if key == "key" or not _is_default(key, value)
        }
        for item in fields
    ]
    return yaml.safe_dump(shown, sort_keys=False, allow_unicode=True) if shown else ""


def _is_default(key: str, value) -> bool:
    default = DEFAULTS.get(key)
    if isinstance(value, list | tuple):
        return tuple(value) == tuple(default or ())
    return value == default


def _lines(text) -> list[str]:
    if isinstance(text, list | tuple):
        return [str(item) for item in text]
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _whole(value) -> int:
    """A row's order; a tampered one counts as 0 (it only sorts the fields)."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    number = whole_number(text.removeprefix("-"))
    if number is None:
        return 0
    return -number if text.startswith("-") else number
