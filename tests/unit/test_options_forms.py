"""The settings form built from an options dataclass: shown from stored options, read back
through parse_options, errors placed next to the option they name."""

from dataclasses import dataclass
from typing import Literal

import pytest

from idp.core.options import OptionsError
from idp.core.options_forms import options_form_for
from idp.stages.prompt.options import PromptOptions


@dataclass(frozen=True)
class Sample:
    title: str = "Hello"
    count: int = 3
    loud: bool = False
    colour: Literal["red", "blue"] = "red"
    tags: tuple[str, ...] = ()

    def validate(self):
        if self.count > 9:
            raise OptionsError("count", "must be at most 9")
        if self.title == "both":
            raise OptionsError("", "title and count disagree")


DEFAULTS = {"option-title": "Hello", "option-count": "3", "option-colour": "red"}


def submitted(app, options_class, data: dict):
    form_class = options_form_for(options_class)
    with app.test_request_context(method="POST", data=data):
        form = form_class()
        return form, form.parsed()


def test_the_form_shows_stored_options_over_the_defaults(app):
    with app.test_request_context():
        form = options_form_for(Sample).prefilled({"count": 5, "tags": ["a", "b"], "gone": 1})
    assert form.title.data == "Hello"
    assert form.count.data == 5
    assert form.tags.data == "a\nb"
    assert form.colour.name == "option-colour"


def test_submitted_values_become_stored_options(app):
    data = {"option-title": "Hi", "option-count": "7", "option-loud": "y", "option-colour": "blue"}
    _, options = submitted(app, Sample, {**data, "option-tags": " x \n\ny"})
    assert options == {
        "title": "Hi",
        "count": 7,
        "loud": True,
        "colour": "blue",
        "tags": ["x", "y"],
    }


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"option-count": "10"}, "count", "must be at most 9"),
        ({"option-count": "lots"}, "count", "must be a whole number"),
        ({"option-colour": "green"}, "colour", "must be one of red, blue"),
    ],
)
def test_an_error_is_placed_next_to_its_option(app, data, field, message):
    form, options = submitted(app, Sample, {**DEFAULTS, **data})
    assert options is None
    assert form[field].errors == [message]


def test_an_error_that_names_no_option_goes_above_the_form(app):
    form, options = submitted(app, Sample, {**DEFAULTS, "option-title": "both"})
    assert options is None
    assert form.form_errors == ["title and count disagree"]


def test_nested_options_are_written_in_yaml(app):
    with app.test_request_context():
        form = options_form_for(PromptOptions).prefilled({"fields": [{"key": "nick"}]})
    assert form.fields.data.startswith("- key: nick")
    yaml_text = "- key: nick\n  type: dropdown\n  choices: [a, b]\n"
    form, options = submitted(app, PromptOptions, {"option-fields": yaml_text})
    assert options["fields"][0]["choices"] == ["a", "b"]
    form, options = submitted(app, PromptOptions, {"option-fields": "- key: [nick"})
    assert options is None
    assert form.fields.errors == ["is not valid YAML (line 1)"]


def test_an_option_may_not_take_a_name_the_form_needs():
    @dataclass(frozen=True)
    class Clashing:
        data: str = ""

    with pytest.raises(TypeError, match="'data' is taken"):
        options_form_for(Clashing)
