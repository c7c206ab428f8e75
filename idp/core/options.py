"""Validation of the JSON options of stage and policy types.

Each type declares a frozen dataclass; `parse_options` is the one validator used by the
importer, the admin and the executor, and it names the bad field in its error.
"""

import dataclasses
import functools
import types
import typing
from typing import Any, Literal

from idp.core.i18n import N_, Sentence, placed


class OptionsError(ValueError):
    """A bad option, with its place ("fields[0].key") and what is wrong. `message` is English
    (the importer and the CLI print it); the admin shows `in_words()`, the same sentence in the
    page's language: the message is an English constant marked N_, its values kept apart."""

    def __init__(self, place: str, message: str, **values):
        self.place = place
        self.template = message
        self.values = values
        self.message = message % values if values else message
        super().__init__(f"{place}: {self.message}" if place else self.message)

    def in_words(self) -> str:
        return self.words.in_words()

    @property
    def words(self) -> Sentence:
        """The message alone, as `message` has it, still translatable."""
        return Sentence(self.template, **self.values)

    @property
    def sentence(self) -> Sentence:
        """The whole error, place and message, as str() has it, still translatable."""
        return placed(self.place, self.words) if self.place else self.words


@dataclasses.dataclass(frozen=True)
class NoOptions:
    pass


def option(default, help_text: str, *, choices: dict | None = None, long_text: bool = False):
    """An option with the words the admin's settings form shows: `help_text` under the field,
    and for a Literal option `choices`, what each value means (value -> words)."""
    metadata = {"help": help_text}
    if choices:
        metadata["choices"] = choices
    if long_text:
        metadata["long_text"] = True
    return dataclasses.field(default=default, metadata=metadata)


def help_of(field: dataclasses.Field) -> str:
    return field.metadata.get("help", "")


def parse_options(options_class: type, mapping: Any, place: str = ""):
    """Build `options_class` from a mapping, checking names, types and choices."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        raise OptionsError(place, N_("must be a mapping of option names to values"))
    hints, known = _shape_of(options_class)
    for name in mapping:
        if name not in known:
            choices = ", ".join(sorted(known)) or "none"
            raise OptionsError(
                _join(place, str(name)), N_("unknown option (known: %(choices)s)"), choices=choices
            )
    values = {}
    for name, field in known.items():
        if name in mapping:
            values[name] = _coerce(hints[name], mapping[name], _join(place, name))
            _check_length(field, values[name], _join(place, name))
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise OptionsError(_join(place, name), N_("is required"))
    instance = options_class(**values)
    validate = getattr(instance, "validate", None)
    if validate is not None:
        try:
            validate()
        except OptionsError as error:
            raise OptionsError(_join(place, error.place), error.template, **error.values) from None
    return instance


# Kept on an instance nothing changes any more (a cached flow's stages and policies,
# idp/flows/loading.py): its options are parsed once, by options class, and the answer kept.
_PARSED = "gatehouse_parsed_options"


def keep_parsed_options(instance) -> None:
    """Mark a read-only instance with `options`: what options_of parses from it is kept."""
    instance.__dict__[_PARSED] = {}


def options_of(instance, options_class: type):
    """parse_options(options_class, instance.options), worked out once for an instance
    marked by keep_parsed_options (a refusal too: the same error each time)."""
    kept = instance.__dict__.get(_PARSED)
    if kept is None:
        return parse_options(options_class, instance.options)
    found = kept.get(options_class)
    if found is None:
        try:
            found = parse_options(options_class, instance.options)
        except OptionsError as error:
            found = (error.place, error.template, error.values)
        kept[options_class] = found
    if isinstance(found, tuple):
        place, template, values = found
        raise OptionsError(place, template, **values)
    return found


@functools.cache
def _shape_of(options_class: type) -> tuple[dict, dict]:
    """Type hints and fields of an options class, worked out once per class (resolving the
    hints was a third of the cost of evaluating a policy)."""
    hints = typing.get_type_hints(options_class)
    return hints, {field.name: field for field in dataclasses.fields(options_class)}


def words(default: str = "", help_text: str = "", max_length: int = 500):
    """An option that is words shown to the visitor (a button, a message), at most
    `max_length` characters."""
    return dataclasses.field(
        default=default, metadata={"help": help_text, "max_length": max_length}
    )


def done_message(default: str = ""):
    """The success notice a stage leaves for the next page once it has done its work."""
    return words(default, N_("Shown on the next page once this step is done. Empty: nothing."))


def _check_length(field, value, place: str) -> None:
    limit = field.metadata.get("max_length")
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise OptionsError(place, N_("must be at most %(limit)s characters"), limit=limit)


def secret_options(options_class: type) -> tuple[str, ...]:
    """Options that are credentials (a captcha provider's secret key): never shown back,
    never exported."""
    return tuple(
        field.name for field in dataclasses.fields(options_class) if "secret" in field.name
    )


def options_to_mapping(options) -> dict:
    """The JSON form of parsed options: what is stored and exported."""
    return _plain(dataclasses.asdict(options))


def _plain(value):
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _join(place: str, name: str) -> str:
    if not name:
        return place
    if not place or name.startswith("["):
        return f"{place}{name}"
    return f"{place}.{name}"


def _coerce(hint, value, place):
    origin = typing.get_origin(hint)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise OptionsError(
                place, N_("must be one of %(values)s"), values=", ".join(map(str, choices))
            )
        return value
    if origin in (typing.Union, types.UnionType):
        arguments = [argument for argument in typing.get_args(hint) if argument is not type(None)]
        if value is None:
            return None
        return _coerce(arguments[0], value, place)
    if origin is tuple:
        item_hint = typing.get_args(hint)[0]
        if not isinstance(value, list | tuple):
            raise OptionsError(place, N_("must be a list"))
        return tuple(
            _coerce(item_hint, item, f"{place}[{index}]") for index, item in enumerate(value)
        )
    if dataclasses.is_dataclass(hint):
        return parse_options(hint, value, place)
    if hint is bool:
        if not isinstance(value, bool):
            raise OptionsError(place, N_("must be true or false"))
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise OptionsError(place, N_("must be a whole number"))
        return value
    if hint is str:
        if not isinstance(value, str):
            raise OptionsError(place, N_("must be text"))
        return value
    raise TypeError(f"unsupported option type {hint!r} at {place}")
