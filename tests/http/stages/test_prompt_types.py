"""Every prompt field type: what it accepts, what it refuses (with a message), and the
JSON-safe value it leaves in prompt_data."""

import pytest

from idp.core.options import OptionsError, parse_options
from idp.stages.prompt.options import PromptOptions
from tests.factories import make_flow, unique
from tests.http.test_executor import session_of

FIELDS = [
    {"key": "intro", "type": "static", "initial_value": "Tell us about you."},
    {"key": "bio", "label": "Bio", "type": "textarea"},
    {"key": "age", "label": "Age", "type": "number"},
    {"key": "terms", "label": "I agree", "type": "checkbox", "required": True},
    {"key": "news", "label": "Newsletter", "type": "checkbox", "initial_value": "true"},
    {"key": "team", "label": "Team", "type": "dropdown", "choices": ["Red", "Blue"]},
    {
        "key": "size",
        "label": "Size",
        "type": "radio",
        "choices": ["S", "M", "L"],
        "help_text": "Pick one.",
    },
    {"key": "born", "label": "Birthday", "type": "date"},
    {"key": "meet", "label": "Meeting", "type": "date-time"},
    {"key": "rule", "label": "More", "type": "separator"},
    {"key": "plan", "type": "hidden", "initial_value": "free"},
]
for order, prompt_field in enumerate(FIELDS):
    prompt_field["order"] = order

GOOD = {
    "bio": "Line one\r\nLine two  ",
    "age": "42",
    "terms": "y",
    "news": "y",
    "team": "Blue",
    "size": "M",
    "born": "1990-05-31",
    "meet": "2024-06-01T14:30",
}


def typed_flow(fields=FIELDS):
    return make_flow(
        [
            {"define": {"name": unique("typed"), "type": "prompt", "options": {"fields": fields}}},
            {
                "define": {
                    "name": unique("typed-pause"),
                    "type": "prompt",
                    "options": {"fields": [{"key": "note", "type": "text"}]},
                }
            },
        ],
        designation="enrollment",
    )


@pytest.fixture
def slug(app):
    with app.app_context():
        return typed_flow()


def prompt_data(app, flows) -> dict:
    (plan,) = session_of(app, flows.client)["plans"].values()
    return plan["context"]["prompt_data"]


def test_every_type_is_kept_as_a_json_value_under_its_key(app, flows, slug):
    flows.open(slug)
    response = flows.submit(slug, GOOD)
    assert response.status_code == 303 and flows.stage == "prompt" and 'name="note"' in flows.page
    assert prompt_data(app, flows) == {
        "intro": "Tell us about you.",
        "bio": "Line one\nLine two",
        "age": 42,
        "terms": True,
        "news": True,
        "team": "Blue",
        "size": "M",
        "born": "1990-05-31",
        "meet": "2024-06-01T14:30",
        "plan": "free",
    }


def test_optional_fields_left_empty_are_empty_values(app, flows, slug):
    flows.open(slug)
    flows.submit(slug, {"terms": "y"})
    data = prompt_data(app, flows)
    assert data["age"] is None and data["born"] is None and data["meet"] is None
    assert data["news"] is False and data["team"] == "" and data["size"] == ""
    assert data["bio"] == ""
    assert "rule" not in data  # a separator has no value


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"age": "forty"}, "Please enter a number, like 42 or 3.5."),
        ({"age": "1e400"}, "Please enter a number"),
        ({"age": "NaN"}, "Please enter a number"),
        ({"age": "9" * 100}, "Please enter a number"),
        ({"born": "31/05/1990"}, "Please enter a date like 2024-05-31."),
        ({"born": "1990-02-30"}, "Please enter a date like"),
        ({"meet": "2024-06-01 25:00"}, "Please enter a date and time like 2024-05-31T14:30."),
        ({"meet": "x" * 5000}, "Please enter a date and time"),
        ({"team": "Green"}, "Please choose one of the listed options."),
        ({"size": "XL"}, "Please choose one of the listed options."),
        ({"bio": "b" * 10001}, "Please keep this under 10000 characters."),
        ({"terms": ""}, "I agree is required."),
    ],
)
def test_bad_answers_are_named_field_errors(app, flows, slug, answers, message):
    flows.open(slug)
    response = flows.submit(slug, {**GOOD, **answers})
    assert response.status_code == 400
    assert flows.stage == "prompt"
    assert message in flows.text


def test_a_bad_answer_is_shown_again_as_typed(flows, slug):
    flows.open(slug)
    flows.submit(slug, {**GOOD, "age": "forty", "team": "Red"})
    assert 'value="forty"' in flows.page
    assert '<option selected value="Red">' in flows.page


def test_a_required_checkbox_left_unticked_is_refused(flows, slug):
    flows.open(slug)
    form = dict(GOOD)
    del form["terms"]
    assert flows.submit(slug, form).status_code == 400
    assert "I agree is required." in flows.text


def test_a_required_number_may_be_zero_but_not_blank(app, flows):
    with app.app_context():
        slug = typed_flow([{"key": "count", "label": "Count", "type": "number", "required": True}])
    flows.open(slug)
    assert flows.submit(slug, {"count": "   "}).status_code == 400
    assert "Count is required." in flows.text
    assert flows.submit(slug, {"count": "-0.5"}).status_code == 303
    assert prompt_data(app, flows) == {"count": -0.5}


def test_a_required_dropdown_refuses_its_placeholder(app, flows):
    with app.app_context():
        slug = typed_flow(
            [
                {
                    "key": "team",
                    "label": "Team",
                    "type": "dropdown",
                    "required": True,
                    "placeholder": "Pick a team",
                    "choices": ["Red"],
                }
            ]
        )
    flows.open(slug)
    assert '<option value="">Pick a team</option>' in flows.page
    assert flows.submit(slug, {"team": ""}).status_code == 400
    assert "Team is required." in flows.text


def test_the_page_has_the_right_inputs(flows, slug):
    flows.open(slug)
    page = flows.page
    assert 'autofocus id="bio" maxlength="10000" name="bio"' in page
    assert 'type="number"' in page and 'step="any"' in page
    assert 'id="terms" name="terms" required type="checkbox"' in page
    assert 'id="news" name="news" type="checkbox" value="y"' in page and "checked" in page
    assert '<select id="team" name="team">' in page
    assert "<legend>Size</legend>" in page
    assert 'name="size" type="radio" value="L"' in page
    assert 'aria-describedby="size-help"' in page
    assert 'type="date"' in page and 'type="datetime-local"' in page
    assert '<h2 class="separator">More</h2>' in page
    assert 'name="rule"' not in page and 'name="intro"' not in page
    # The first field that asks something takes the focus.
    assert page.count("autofocus") == 1 and 'autofocus id="bio"' in page


def test_radio_errors_are_tied_to_the_fieldset(flows, slug):
    flows.open(slug)
    flows.submit(slug, {**GOOD, "size": "XL"})
    assert 'aria-describedby="size-errors"' in flows.page
    assert '<ul class="errors" id="size-errors">' in flows.page


def test_hidden_and_static_values_are_forced_and_extra_fields_ignored(app, flows, slug):
    flows.open(slug)
    flows.submit(slug, {**GOOD, "plan": "enterprise", "intro": "x", "rule": "x", "extra": "x"})
    data = prompt_data(app, flows)
    assert data["plan"] == "free" and data["intro"] == "Tell us about you."
    assert "rule" not in data and "extra" not in data


def test_htmx_gets_field_errors_with_status_200(flows, slug):
    flows.open(slug)
    response = flows.submit(slug, {**GOOD, "age": "x"}, htmx=True)
    assert response.status_code == 200
    assert "Please enter a number" in flows.text


def test_a_seconds_date_time_keeps_its_seconds(app, flows, slug):
    flows.open(slug)
    flows.submit(slug, {**GOOD, "meet": "2024-06-01T14:30:15"})
    assert prompt_data(app, flows)["meet"] == "2024-06-01T14:30:15"


@pytest.mark.parametrize(
    ("field", "place"),
    [
        ({"key": "c", "type": "dropdown"}, "fields[0].choices"),
        ({"key": "c", "type": "radio", "choices": ["a", "a"]}, "fields[0].choices[1]"),
        ({"key": "c", "type": "radio", "choices": [" "]}, "fields[0].choices[0]"),
        ({"key": "c", "type": "text", "choices": ["a"]}, "fields[0].choices"),
        ({"key": "c", "type": "radio", "choices": ["a"], "initial_value": "b"}, "initial_value"),
        ({"key": "c", "type": "number", "initial_value": "many"}, "fields[0].initial_value"),
        ({"key": "c", "type": "date", "initial_value": "tomorrow"}, "fields[0].initial_value"),
        ({"key": "c", "type": "checkbox", "initial_value": "yes"}, "fields[0].initial_value"),
        ({"key": "c", "type": "colour"}, "fields[0].type"),
    ],
)
def test_bad_field_options_name_their_place(field, place):
    with pytest.raises(OptionsError) as raised:
        parse_options(PromptOptions, {"fields": [field]})
    assert place in str(raised.value)


def test_initial_values_of_typed_fields_fill_the_form(app, flows):
    fields = [
        {"key": "age", "type": "number", "initial_value": "7"},
        {"key": "born", "type": "date", "initial_value": "2000-01-02"},
        {"key": "team", "type": "radio", "choices": ["Red", "Blue"], "initial_value": "Blue"},
    ]
    with app.app_context():
        slug = typed_flow(fields)
    flows.open(slug)
    assert 'value="7"' in flows.page and 'value="2000-01-02"' in flows.page
    assert 'checked id="team-1"' in flows.page
    flows.submit(slug, {"age": "7", "born": "2000-01-02", "team": "Blue"})
    assert prompt_data(app, flows) == {"age": 7, "born": "2000-01-02", "team": "Blue"}
