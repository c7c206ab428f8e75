"""The prompt stage's field editor, as a browser without JavaScript uses it: rows of fields
with add, remove and move buttons (each a POST of the page's form, saving nothing), Save, the
same fields as YAML on request, and every problem shown next to its field at once."""

import re
from html import unescape

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Stage
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_user
from tests.http.admin.conftest import events_of, text
from tests.http.admin.page_forms import sent

ACTION = "option-editor_action"
ASKED = [
    {"key": "nickname", "label": "Nickname", "type": "text", "required": True, "order": 10},
    {
        "key": "colour",
        "label": "Colour",
        "type": "dropdown",
        "choices": ["red", "blue"],
        "order": 20,
    },
]


@pytest.fixture
def stage_id(app) -> int:
    """A prompt stage `ask` with two fields, in a flow `ask-flow` for signed-in users."""
    with app.app_context():
        make_user("alice")
        definition = {"name": "ask", "type": "prompt", "options": {"fields": ASKED}}
        make_flow([{"define": definition}], slug="ask-flow", designation="stage_configuration")
        return db.session.scalar(select(Stage.id).where(Stage.name == "ask"))


def url_of(stage_id: int) -> str:
    return f"/admin/stages/{stage_id}"


def press(admin, stage_id: int, page: str, button: str, changes: dict | None = None):
    """Press one of the editor's buttons (or Save, with `button` empty) on `page`."""
    data = sent(page, url_of(stage_id), changes, (ACTION, button) if button else ())
    return admin.post(url_of(stage_id), data=data)


def rows_of(page: str) -> list[dict]:
    """Each row's key, label, type and required, as the page shows them."""
    rows = []
    for index in sorted({int(n) for n in re.findall(r'name="option-rows-(\d+)-key"', page)}):
        prefix = f"option-rows-{index}-"
        key = re.search(rf'name="{prefix}key"[^>]*value="([^"]*)"', page)
        select_html = page.split(f'name="{prefix}type"', 1)[1].split("</select>", 1)[0]
        chosen = re.search(r'<option selected value="([^"]+)"', select_html)
        required = re.search(rf'<input[^>]*name="{prefix}required"[^>]*>', page).group(0)
        rows.append(
            {
                "key": unescape(key.group(1)) if key else "",
                "type": chosen.group(1),
                "required": "checked" in required,
            }
        )
    return rows


def stored_fields(app, stage_id: int) -> list[dict]:
    with app.app_context():
        return db.session.get(Stage, stage_id).options["fields"]


def asked_in_the_flow(app) -> list[str]:
    driver = FlowDriver(app.test_client())
    driver.sign_in("alice", PASSWORD)
    driver.open("ask-flow")
    return re.findall(r'<(?:input|select)[^>]*name="(?!csrf_token)([a-z_]+)"', driver.page)


def test_the_fields_are_shown_as_rows_not_yaml(admin, stage_id):
    page = text(admin.get(url_of(stage_id)))
    assert rows_of(page) == [
        {"key": "nickname", "type": "text", "required": True},
        {"key": "colour", "type": "dropdown", "required": False},
    ]
    assert 'name="option-fields"' not in page  # no YAML textarea unless asked for
    assert "red\nblue</textarea>" in page
    for label in ("Add a field", "Edit as YAML", "Move down", "Remove"):
        assert f">{label}</button>" in page
    assert 'aria-label="Move down: nickname"' in page
    assert "Move up: nickname" not in page and "Move down: colour" not in page


def test_adding_a_field_saves_nothing_until_save(app, admin, stage_id):
    before = stored_fields(app, stage_id)
    page = text(admin.get(url_of(stage_id)))
    response = press(admin, stage_id, page, "add")
    assert response.status_code == 200
    page = text(response)
    assert [row["key"] for row in rows_of(page)] == ["nickname", "colour", ""]
    assert stored_fields(app, stage_id) == before
    assert events_of(app, "admin_stage_edited") == []
    changes = {
        "option-rows-2-key": "city",
        "option-rows-2-label": "City",
        "option-rows-2-placeholder": "Where you live",
        "option-rows-2-help_text": "Only the town.",
        "option-rows-2-required": "y",
    }
    assert press(admin, stage_id, page, "", changes).status_code == 303
    city = stored_fields(app, stage_id)[2]
    assert city["key"] == "city" and city["required"] is True and city["order"] == 30
    assert (city["placeholder"], city["help_text"]) == ("Where you live", "Only the town.")
    assert asked_in_the_flow(app) == ["nickname", "colour", "city"]
    (event,) = events_of(app, "admin_stage_edited")
    assert "options.fields" in event.detail["after"]


def test_moving_and_removing_fields_change_the_form_once_saved(app, admin, stage_id):
    page = text(press(admin, stage_id, text(admin.get(url_of(stage_id))), "down-0"))
    assert [row["key"] for row in rows_of(page)] == ["colour", "nickname"]
    assert [field["key"] for field in stored_fields(app, stage_id)] == ["nickname", "colour"]
    assert press(admin, stage_id, page, "").status_code == 303
    assert asked_in_the_flow(app) == ["colour", "nickname"]
    page = text(admin.get(url_of(stage_id)))
    page = text(press(admin, stage_id, page, "up-1"))
    assert [row["key"] for row in rows_of(page)] == ["nickname", "colour"]
    page = text(press(admin, stage_id, page, "remove-1"))
    assert [row["key"] for row in rows_of(page)] == ["nickname"]
    assert press(admin, stage_id, page, "").status_code == 303
    assert asked_in_the_flow(app) == ["nickname"]


def test_choices_are_one_per_line(app, admin, stage_id):
    page = text(admin.get(url_of(stage_id)))
    response = press(admin, stage_id, page, "", {"option-rows-1-choices": "red\n\n green \nblue\n"})
    assert response.status_code == 303
    assert stored_fields(app, stage_id)[1]["choices"] == ["red", "green", "blue"]
    driver = FlowDriver(app.test_client())
    driver.sign_in("alice", PASSWORD)
    driver.open("ask-flow")
    assert re.findall(r'<option value="([a-z]+)"', driver.page)[-3:] == ["red", "green", "blue"]


def test_every_problem_is_shown_next_to_its_field_at_once(app, admin, stage_id):
    page = text(press(admin, stage_id, text(admin.get(url_of(stage_id))), "add"))
    changes = {
        "option-rows-0-key": "Bad Key",
        "option-rows-1-choices": "",
        "option-rows-2-key": "city",
        "option-rows-2-type": "date",
        "option-rows-2-initial_value": "someday",
    }
    response = press(admin, stage_id, page, "", changes)
    assert response.status_code == 400
    page = unescape(text(response))
    assert "'Bad Key' must be lower-case letters" in errors_at(page, "option-rows-0-key")
    assert "a dropdown field needs 1 to 100 choices" in errors_at(page, "option-rows-1-choices")
    assert "'someday' is not a valid date value" in errors_at(page, "option-rows-2-initial_value")
    assert 'value="Bad Key"' in page  # what was typed stays
    assert [field["key"] for field in stored_fields(app, stage_id)] == ["nickname", "colour"]


def test_a_key_used_twice_is_shown_at_the_second_row(admin, stage_id):
    page = text(admin.get(url_of(stage_id)))
    response = press(admin, stage_id, page, "", {"option-rows-1-key": "nickname"})
    assert response.status_code == 400
    assert "used twice" in unescape(errors_at(text(response), "option-rows-1-key"))


def errors_at(page: str, field_id: str) -> str:
    match = re.search(rf'<ul class="errors" id="{field_id}-errors">(.*?)</ul>', page, re.S)
    assert match, f"no errors at {field_id}"
    return match.group(1)


def test_the_fields_can_be_edited_as_yaml_and_back(app, admin, stage_id):
    page = text(admin.get(url_of(stage_id)))
    # Unsaved changes go along into the YAML.
    page = text(press(admin, stage_id, page, "yaml", {"option-rows-0-label": "Your nickname"}))
    yaml_text = unescape(re.search(r'name="option-fields"[^>]*>(.*?)</textarea>', page, re.S)[1])
    assert "- key: nickname\n  label: Your nickname\n  required: true\n  order: 10\n" in yaml_text
    assert "choices:\n  - red\n  - blue" in yaml_text
    assert 'name="option-rows-0-key"' not in page and ">Edit as a list</button>" in page
    edited = yaml_text.replace("label: Colour", "label: Favourite colour")
    assert press(admin, stage_id, page, "", {"option-fields": edited}).status_code == 303
    assert stored_fields(app, stage_id)[1]["label"] == "Favourite colour"
    assert stored_fields(app, stage_id)[0]["label"] == "Your nickname"
    page = text(admin.get(url_of(stage_id) + "?editor=yaml"))
    page = text(press(admin, stage_id, page, "rows"))
    assert [row["key"] for row in rows_of(page)] == ["nickname", "colour"]


def test_yaml_that_cannot_be_read_stays_with_its_problem(admin, stage_id):
    page = text(admin.get(url_of(stage_id) + "?editor=yaml"))
    response = press(admin, stage_id, page, "rows", {"option-fields": "- key: [nick"})
    assert response.status_code == 200
    page = text(response)
    assert "is not valid YAML (line 1)" in errors_at(page, "option-fields")
    assert "- key: [nick</textarea>" in page


def test_a_new_prompt_stage_is_made_with_the_editor(app, admin):
    page = text(admin.get("/admin/stages/new/prompt"))
    assert "No fields yet" in page
    page = text(press_new(admin, page, "add", {"name": "asks"}))
    changes = {"name": "asks", "option-rows-0-key": "motto", "option-rows-0-label": "Motto"}
    assert press_new(admin, page, "", changes).status_code == 303
    with app.app_context():
        stage = db.session.scalar(select(Stage).where(Stage.name == "asks"))
        assert [field["key"] for field in stage.options["fields"]] == ["motto"]


def press_new(admin, page, button, changes=None):
    url = "/admin/stages/new/prompt"
    data = sent(page, url, changes, (ACTION, button) if button else ())
    return admin.post(url, data=data)


def test_the_editor_buttons_need_the_csrf_token(admin, stage_id):
    page = text(admin.get(url_of(stage_id)))
    data = sent(page, url_of(stage_id), pressed=(ACTION, "add"))
    data.pop("csrf_token")
    assert admin.post(url_of(stage_id), data=data).status_code == 400


def test_a_tampered_button_or_order_changes_nothing_it_should_not(app, admin, stage_id):
    page = text(admin.get(url_of(stage_id)))
    for button in ("remove-9", "up-0", "down-1", "teleport", "up-x"):
        response = press(admin, stage_id, page, button)
        assert response.status_code == 200
        assert [row["key"] for row in rows_of(text(response))] == ["nickname", "colour"]
    response = press(admin, stage_id, page, "", {"option-rows-0-order": "first"})
    assert response.status_code == 303  # the order only sorts; a bad one counts as 0
    assert [field["key"] for field in stored_fields(app, stage_id)] == ["nickname", "colour"]


def test_the_create_and_bind_page_has_the_editor_too(admin, stage_id, app):
    page = text(admin.get("/admin/flows/ask-flow/stages/create/prompt"))
    assert ">Add a field</button>" in page
    url = "/admin/flows/ask-flow/stages/create/prompt"
    data = sent(page, url, {"name": "more"}, (ACTION, "add"))
    response = admin.post(url, data=data)
    assert response.status_code == 200
    assert 'name="option-rows-0-key"' in text(response)
    assert 'value="more"' in text(response)  # the name typed stays
