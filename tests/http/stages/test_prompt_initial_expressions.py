"""A prompt field's initial_value_expression: its value when the form is shown, from the visit
(the signed-in or pending user, the flow's data), never from what the browser posts back."""

import pytest

from idp.core.extensions import db
from idp.core.options import OptionsError, parse_options
from idp.stages.prompt.options import PromptOptions
from tests.factories import PASSWORD, make_flow, make_group, make_user, unique
from tests.http.stages.test_prompt_types import prompt_data

FIELDS = [
    {"key": "greeting", "type": "static", "initial_value_expression": "'Hello ' ~ user.name"},
    {"key": "email", "label": "Email", "type": "email", "initial_value_expression": "user.email"},
    {
        "key": "staff",
        "label": "Staff",
        "type": "checkbox",
        "initial_value_expression": "'staff' in user.groups",
    },
    {
        "key": "team",
        "label": "Team",
        "type": "dropdown",
        "choices": ["Red", "Blue"],
        "initial_value_expression": "user.attributes.get('team', '')",
    },
    {
        "key": "ref",
        "type": "hidden",
        "initial_value_expression": "user.username ~ '-' ~ flow.designation",
    },
    # A failing expression leaves its field empty; the form still works.
    {"key": "city", "label": "City", "type": "text", "initial_value_expression": "user.nope.x"},
    # A value a number field cannot show starts it empty too.
    {"key": "age", "label": "Age", "type": "number", "initial_value_expression": "user.username"},
]


@pytest.fixture
def slug(app):
    with app.app_context():
        staff = make_group("staff")
        ada = make_user("ada", email="ada@example.test", groups=[staff])
        ada.name = "Ada"
        ada.attributes = {"team": "Blue"}
        db.session.commit()
        pause = {"fields": [{"key": "note", "type": "text"}]}
        return make_flow(
            [
                {
                    "define": {
                        "name": unique("profile"),
                        "type": "prompt",
                        "options": {"fields": FIELDS},
                    }
                },
                {"define": {"name": unique("pause"), "type": "prompt", "options": pause}},
            ],
            designation="stage_configuration",
            authentication="require_authenticated",
        )


def test_expressions_fill_the_form_from_the_signed_in_user(app, flows, slug):
    flows.sign_in("ada", PASSWORD)
    flows.open(slug)
    page = flows.page
    assert '<p class="static">Hello Ada</p>' in page
    assert 'value="ada@example.test"' in page
    assert '<input checked id="staff" name="staff" type="checkbox" value="y">' in page
    assert '<option selected value="Blue">Blue</option>' in page
    assert 'name="ref" type="hidden" value="ada-stage_configuration"' in page
    assert 'name="city" type="text" value=""' in page
    assert 'name="age" step="any" type="number" value=""' in page


def test_fixed_fields_keep_the_expressions_value_whatever_is_posted(app, flows, slug):
    flows.sign_in("ada", PASSWORD)
    flows.open(slug)
    flows.submit(
        slug,
        {"email": "ada@example.test", "team": "Red", "ref": "forged", "greeting": "x", "age": ""},
    )
    data = prompt_data(app, flows)
    assert data["ref"] == "ada-stage_configuration"
    assert data["greeting"] == "Hello Ada"
    assert (data["team"], data["staff"]) == ("Red", False)  # what the visitor chose


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"initial_value_expression": "user.("}, "is not a valid expression"),
        ({"initial_value_expression": "x" * 2001}, "is longer than 2000 characters"),
        ({"initial_value": "a", "initial_value_expression": "user.email"}, "leave initial_value"),
    ],
)
def test_a_bad_initial_value_expression_is_refused_with_its_place(field, message):
    with pytest.raises(OptionsError) as raised:
        parse_options(PromptOptions, {"fields": [{"key": "c", "type": "text", **field}]})
    assert raised.value.place == "fields[0].initial_value_expression"
    assert message in str(raised.value)
