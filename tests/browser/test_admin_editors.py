"""The admin's editors in a browser, JavaScript on and off: the prompt stage's field editor
(add, move, Enter saves rather than pressing a row's button), and removing a stage binding,
which asks first (in place with JavaScript, on a page of its own without)."""

import pytest
from playwright.sync_api import expect

from idp.core.extensions import db
from idp.models import Stage
from tests.browser.pages import sign_in, url_path
from tests.factories import PASSWORD, make_flow

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

FIELDS = [
    {"key": "nickname", "label": "Nickname", "type": "text", "order": 10},
    {"key": "colour", "label": "Colour", "type": "text", "order": 20},
]


@pytest.fixture
def prompt_stage(app) -> int:
    with app.app_context():
        definition = {"name": "ask", "type": "prompt", "options": {"fields": FIELDS}}
        make_flow([{"define": definition}], slug="ask-flow", designation="stage_configuration")
        return db.session.query(Stage.id).filter_by(name="ask").scalar()


def open_admin(page) -> None:
    sign_in(page, "admin", PASSWORD, login_url="/login?next=/admin/")
    expect(page).to_have_url(url_path("/admin/$"))


def asked(new_context, javascript) -> list[str]:
    page = new_context(java_script_enabled=javascript).new_page()
    page.goto("/flow/ask-flow/")
    return page.locator("#stage input:not([type=hidden])").evaluate_all(
        "inputs => inputs.map(input => input.name)"
    )


def test_fields_are_added_and_moved_in_the_prompt_editor(
    visitor, new_context, javascript, prompt_stage
):
    open_admin(visitor)
    visitor.goto(f"/admin/stages/{prompt_stage}")
    expect(visitor.locator("fieldset.prompt-field")).to_have_count(2)

    visitor.get_by_role("button", name="Add a field").click()
    expect(visitor.locator("fieldset.prompt-field")).to_have_count(3)
    expect(visitor.locator("#option-rows-2-key")).to_have_value("")
    visitor.locator("#option-rows-2-key").fill("city")
    visitor.locator("#option-rows-2-label").fill("City")
    visitor.locator("#option-rows-2-label").press("Enter")  # saves, as on any settings page
    expect(visitor.locator(".notice")).to_contain_text("The stage ask was saved.")

    visitor.get_by_role("button", name="Move down: nickname").click()
    expect(visitor.locator("#prompt-field-0 legend")).to_have_text("Field 1: colour")
    visitor.get_by_role("button", name="Save").click()
    expect(visitor.locator(".notice")).to_contain_text("The stage ask was saved.")

    assert asked(new_context, javascript) == ["colour", "nickname", "city"]


def test_a_field_editor_problem_is_shown_at_its_field(visitor, prompt_stage):
    open_admin(visitor)
    visitor.goto(f"/admin/stages/{prompt_stage}")
    visitor.locator("#option-rows-1-key").fill("Colour Of Choice")
    visitor.get_by_role("button", name="Save").click()
    expect(visitor.locator("#option-rows-1-key-errors")).to_contain_text("must be lower-case")
    expect(visitor.locator("#option-rows-1-key")).to_have_value("Colour Of Choice")
    expect(visitor.locator("#option-rows-1-key")).to_have_attribute(
        "aria-describedby", "option-rows-1-key-errors"
    )


def test_the_prompt_editor_switches_to_yaml_and_back(visitor, prompt_stage):
    open_admin(visitor)
    visitor.goto(f"/admin/stages/{prompt_stage}")
    visitor.get_by_role("button", name="Edit as YAML").click()
    yaml_field = visitor.get_by_label("Fields", exact=True)
    expect(yaml_field).to_contain_text("- key: nickname")
    yaml_field.fill("- key: motto\n  label: Motto\n")
    visitor.get_by_role("button", name="Edit as a list").click()
    expect(visitor.locator("fieldset.prompt-field")).to_have_count(1)
    expect(visitor.locator("#option-rows-0-key")).to_have_value("motto")


@pytest.fixture
def gate_flow(app) -> str:
    with app.app_context():
        db.session.add(Stage(name="closed", type="deny", options={"message": "Closed."}))
        db.session.commit()
        steps = [
            {"stage": "default-authentication-identification", "order": 10},
            {"stage": "closed", "order": 20},
            {"stage": "default-authentication-login", "order": 100},
        ]
        return make_flow(steps, slug="gate-test", name="Gate test")


def test_removing_a_stage_binding_asks_first(visitor, javascript, gate_flow):
    open_admin(visitor)
    visitor.goto(f"/admin/flows/{gate_flow}/stages")
    visitor.evaluate("window.__marker = 1") if javascript else None
    item = visitor.locator("li.stage-binding", has_text="closed")
    item.get_by_role("link", name="Remove…").click()

    question = visitor.get_by_role("alertdialog")
    expect(question).to_contain_text("Remove the stage closed from this flow?")
    if javascript:  # opened in place, under the binding
        expect(visitor).to_have_url(url_path(f"/admin/flows/{gate_flow}/stages$"))
        assert visitor.evaluate("window.__marker") == 1
        expect(item.get_by_role("alertdialog")).to_be_visible()
    else:
        expect(visitor).to_have_url(url_path(f"/admin/flows/{gate_flow}/stages/\\d+/remove$"))
    question.get_by_role("button", name="Remove the binding").click()

    expect(visitor.locator(".notice")).to_contain_text(
        "The stage closed was removed from the flow."
    )
    expect(visitor.locator("li.stage-binding", has_text="closed")).to_have_count(0)
