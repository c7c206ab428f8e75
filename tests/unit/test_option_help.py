"""Every setting an administrator can change says what it does: each option of every stage and
policy type (nested ones included) has help text, and each value of a choice has words."""

import dataclasses
import typing
from typing import Literal

import pytest

from idp.core.options import help_of
from idp.policies.registry import POLICY_TYPES
from idp.stages.registry import STAGE_TYPES

TYPES = [("stage", name, kind) for name, kind in STAGE_TYPES.items()] + [
    ("policy", name, kind) for name, kind in POLICY_TYPES.items()
]


def options_of(options_class: type, place: str = ""):
    """(place, field, hint) for every option, the options of nested dataclasses too."""
    hints = typing.get_type_hints(options_class)
    for option in dataclasses.fields(options_class):
        where = f"{place}{option.name}"
        yield where, option, hints[option.name]
        for inner in (hints[option.name], *typing.get_args(hints[option.name])):
            if dataclasses.is_dataclass(inner):
                yield from options_of(inner, f"{where}.")


def choices_of(hint) -> tuple:
    """The values a Literal option (or a tuple of Literals) may take; () for other options."""
    if typing.get_origin(hint) is Literal:
        return typing.get_args(hint)
    for argument in typing.get_args(hint):
        found = choices_of(argument)
        if found:
            return found
    return ()


@pytest.mark.parametrize(("family", "name", "kind"), TYPES, ids=[f"{f}-{n}" for f, n, _ in TYPES])
def test_every_option_has_help_text(family, name, kind):
    missing = [where for where, option, _ in options_of(kind.Options) if not help_of(option)]
    assert missing == [], f"the {family} type {name} has options without help text: {missing}"


@pytest.mark.parametrize(("family", "name", "kind"), TYPES, ids=[f"{f}-{n}" for f, n, _ in TYPES])
def test_every_choice_of_an_option_is_put_in_words(family, name, kind):
    unexplained = [
        f"{where}={value!r}"
        for where, option, hint in options_of(kind.Options)
        for value in choices_of(hint)
        if not option.metadata.get("choices", {}).get(value)
    ]
    assert unexplained == [], f"the {family} type {name} has choices without words: {unexplained}"


def test_the_walk_finds_options_inside_nested_dataclasses():
    places = [where for where, _, _ in options_of(STAGE_TYPES["prompt"].Options)]
    assert "fields" in places and "fields.key" in places and "fields.choices" in places


def test_an_option_without_help_text_is_found():
    @dataclasses.dataclass(frozen=True)
    class Careless:
        colour: Literal["red", "blue"] = "red"

    ((where, option, hint),) = options_of(Careless)
    assert (where, help_of(option), choices_of(hint)) == ("colour", "", ("red", "blue"))
