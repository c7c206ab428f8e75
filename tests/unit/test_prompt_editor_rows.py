"""The prompt editor's rows hold every option of a prompt field (none is lost on Save), and
its buttons move rows the way the page says."""

import dataclasses

import pytest

from idp.stages.prompt.admin import PromptFieldRow, _moved, _split_place
from idp.stages.prompt.options import PromptField


def test_a_row_has_an_input_for_every_option_of_a_field():
    options = {field.name for field in dataclasses.fields(PromptField)}
    inputs = {
        name
        for name in dir(PromptFieldRow)
        if hasattr(getattr(PromptFieldRow, name), "field_class")
    }
    assert options == inputs


def keys(fields) -> list[str]:
    return [item["key"] for item in fields]


FIELDS = [{"key": "a", "order": 0}, {"key": "b", "order": 0}, {"key": "c", "order": 5}]


@pytest.mark.parametrize(
    ("action", "order"),
    [
        ("down-0", ["b", "a", "c"]),
        ("up-2", ["a", "c", "b"]),
        ("remove-1", ["a", "c"]),
        ("up-0", ["a", "b", "c"]),  # the first cannot go up
        ("down-2", ["a", "b", "c"]),
        ("remove-3", ["a", "b", "c"]),
    ],
)
def test_rows_move_as_asked(action, order):
    moved = _moved(FIELDS, action)
    assert keys(moved) == order
    # Sorted by their orders (as the prompt shows them), they stay in the editor's order.
    assert keys(sorted(moved, key=lambda item: item["order"])) == order


def test_a_new_row_comes_last():
    added = _moved(FIELDS, "add")
    assert added[-1]["key"] == "" and added[-1]["order"] == 15
    assert _moved([], "add")[0]["order"] == 0


@pytest.mark.parametrize(
    ("place", "parts"),
    [
        ("fields[2].key", ("fields", 2, "key")),
        ("fields[0].choices[1]", ("fields", 0, "choices[1]")),
        ("fields", ("fields", None, "")),
        ("validation_policies", ("validation_policies", None, "")),
    ],
)
def test_an_error_place_names_the_row_and_its_input(place, parts):
    assert _split_place(place) == parts
