import pytest
from markupsafe import escape
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Stage
from idp.stages.registry import STAGE_TYPES
from tests.factories import make_flow
from tests.http.admin.conftest import events_of, post, text
from tests.http.admin.settings_data import default_form_data


def stage_named(app, name: str) -> Stage | None:
    with app.app_context():
        return db.session.scalar(select(Stage).where(Stage.name == name))


def make_stage(app, name: str, type_name: str = "deny", options=None) -> int:
    with app.app_context():
        stage = Stage(name=name, type=type_name, options=options or {})
        db.session.add(stage)
        db.session.commit()
        return stage.id


def test_the_first_step_lists_every_stage_type(admin):
    page = text(admin.get("/admin/stages/new"))
    for stage_type in STAGE_TYPES.values():
        assert f'href="/admin/stages/new/{stage_type.name}"' in page
        assert stage_type.label in page
        assert escape(stage_type.description) in page


@pytest.mark.parametrize("type_name", sorted(STAGE_TYPES))
def test_every_stage_type_is_created_in_two_steps_with_its_defaults(app, admin, type_name):
    stage_type = STAGE_TYPES[type_name]
    form = admin.get(f"/admin/stages/new/{type_name}")
    assert form.status_code == 200
    assert stage_type.label in text(form)
    data = {"name": f"new {type_name}", **default_form_data(app, stage_type)}
    response = post(admin, f"/admin/stages/new/{type_name}", data)
    assert response.status_code == 303, text(response)
    assert response.headers["Location"] == "/admin/stages"
    stage = stage_named(app, f"new {type_name}")
    assert stage.type == type_name
    with app.app_context():
        assert stage_type.parse_options(stage.options) == stage_type.Options()
    (event,) = events_of(app, "admin_stage_created")
    assert event.detail["after"]["name"] == f"new {type_name}"
    assert event.detail["after"]["type"] == type_name
    assert event.detail["target"] == {"kind": "stage", "id": stage.id, "name": stage.name}


def test_a_new_stage_keeps_the_settings_given(app, admin):
    data = {"name": "no-entry", "option-message": "Closed for repairs."}
    assert post(admin, "/admin/stages/new/deny", data).status_code == 303
    assert stage_named(app, "no-entry").options == {"message": "Closed for repairs."}
    assert "no-entry" in text(admin.get("/admin/stages"))


def test_list_fields_are_read_one_per_line_and_as_checkboxes(app, admin):
    data = {
        "name": "asks",
        "option-fields": "- key: nickname\n  label: Nickname\n",
        "option-validation_policies": "one\n\n  two  \n",
    }
    assert post(admin, "/admin/stages/new/prompt", data).status_code == 303
    options = stage_named(app, "asks").options
    assert options["validation_policies"] == ["one", "two"]
    assert options["fields"][0]["key"] == "nickname"
    defaults = default_form_data(app, STAGE_TYPES["identification"])
    data = {**defaults, "name": "who", "option-user_fields": ["email"]}
    assert post(admin, "/admin/stages/new/identification", data).status_code == 303
    assert stage_named(app, "who").options["user_fields"] == ["email"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Enter a name."),
        ({"name": "   "}, "Enter a name."),
        ({"name": "taken"}, "A stage with this name exists already."),
        ({"name": "x" * 201}, "Names are at most 200 characters."),
    ],
)
def test_a_bad_stage_name_is_refused(app, admin, data, message):
    make_stage(app, "taken")
    with app.app_context():
        count = db.session.scalar(select(db.func.count()).select_from(Stage))
    response = post(admin, "/admin/stages/new/deny", data)
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Stage)) == count
    assert events_of(app, "admin_stage_created") == []


@pytest.mark.parametrize(
    ("type_name", "data", "field", "message"),
    [
        ("email", {"option-sends_per_hour": "0"}, "sends_per_hour", "must be between 1 and 100"),
        ("email", {"option-sends_per_hour": "many"}, "sends_per_hour", "must be a whole number"),
        (
            "identification",
            {"option-user_fields": []},
            "user_fields",
            "needs at least one of username, email",
        ),
        ("user_login", {"option-session_duration": "1s"}, "session_duration", "between 1m"),
        ("prompt", {"option-fields": "- key: [oops"}, "fields", "is not valid YAML"),
        ("prompt", {"option-fields": "- key: Bad Key"}, "fields", "[0].key: &#39;Bad Key&#39;"),
        ("authenticator_totp", {"option-digits": "7"}, "digits", "must be one of 6, 8"),
    ],
)
def test_bad_options_are_shown_next_to_their_field(app, admin, type_name, data, field, message):
    before = events_of(app, "admin_stage_created")
    defaults = default_form_data(app, STAGE_TYPES[type_name])
    response = post(admin, f"/admin/stages/new/{type_name}", {**defaults, "name": "bad", **data})
    assert response.status_code == 400
    page = text(response)
    errors = page.split(f'id="option-{field}-errors"', 1)[1].split("</ul>", 1)[0]
    assert message in errors
    assert stage_named(app, "bad") is None
    assert events_of(app, "admin_stage_created") == before


def test_an_unknown_type_is_not_found(app, admin):
    assert admin.get("/admin/stages/new/teleport").status_code == 404
    response = post(admin, "/admin/stages/new/teleport", {"name": "beam"})
    assert response.status_code == 404
    assert "is not installed" in text(response)
    assert stage_named(app, "beam") is None


def test_a_stage_whose_type_is_not_installed_says_so(app, admin):
    stage_id = make_stage(app, "relic", "teleport", {"to": "mars"})
    listing = text(admin.get("/admin/stages"))
    assert "teleport" in listing and "type not installed" in listing
    page = admin.get(f"/admin/stages/{stage_id}")
    assert page.status_code == 200
    assert "is not installed" in text(page)
    response = post(admin, f"/admin/stages/{stage_id}", {"name": "renamed"})
    assert response.status_code == 409
    assert stage_named(app, "relic") is not None
    assert post(admin, f"/admin/stages/{stage_id}/delete").status_code == 303
    assert stage_named(app, "relic") is None


def test_a_stage_is_edited_and_the_change_recorded(app, admin):
    stage_id = make_stage(app, "gate", options={"message": "No."})
    page = text(admin.get(f"/admin/stages/{stage_id}"))
    assert 'value="No."' in page
    data = {"name": "gate-2", "option-message": "Not today."}
    response = post(admin, f"/admin/stages/{stage_id}", data)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/stages/{stage_id}"
    assert stage_named(app, "gate-2").options == {"message": "Not today."}
    (event,) = events_of(app, "admin_stage_edited")
    assert event.detail["before"] == {"name": "gate", "options.message": "No."}
    assert event.detail["after"] == {"name": "gate-2", "options.message": "Not today."}


def test_an_edit_with_bad_options_changes_nothing(app, admin):
    stage_id = make_stage(app, "mailer", "email")
    data = {
        "name": "mailer-2",
        "option-subject": "",
        "option-token_expiry_minutes": "30",
        "option-sends_per_hour": "5",
        "option-sends_per_hour_per_ip": "20",
    }
    response = post(admin, f"/admin/stages/{stage_id}", data)
    assert response.status_code == 400
    assert "must be 1 to 200 characters" in text(response)
    assert stage_named(app, "mailer").options == {}
    assert events_of(app, "admin_stage_edited") == []


def test_secrets_are_not_written_into_the_audit_log(app, admin):
    data = {
        "name": "bot-check",
        "option-mode": "provider",
        "option-provider": "turnstile",
        "option-site_key": "site",
        "option-secret_key": "very-secret",
        "option-failed_attempts_before_cancel": "5",
        "option-verify_url": "",
        "option-provider_script_url": "",
    }
    assert post(admin, "/admin/stages/new/captcha", data).status_code == 303
    (event,) = events_of(app, "admin_stage_created")
    assert "very-secret" not in str(event.detail)
    assert event.detail["after"]["options.secret_key"] == "(set, hidden)"
    stage_id = stage_named(app, "bot-check").id
    assert "very-secret" not in text(admin.get("/admin/events"))
    assert "very-secret" not in text(admin.get(f"/admin/stages/{stage_id}"))
    kept = {**data, "option-secret_key": "", "option-site_key": "site-2"}
    assert post(admin, f"/admin/stages/{stage_id}", kept).status_code == 303
    assert stage_named(app, "bot-check").options["secret_key"] == "very-secret"
    changed = {**kept, "option-secret_key": "new"}
    assert post(admin, f"/admin/stages/{stage_id}", changed).status_code == 303
    _, edit = events_of(app, "admin_stage_edited")
    assert edit.detail["before"] == {"options.secret_key": "(set, hidden)"}
    assert edit.detail["after"] == {"options.secret_key": "(changed, hidden)"}


def test_the_list_groups_stages_by_type_with_their_flows(app, admin):
    with app.app_context():
        slug = make_flow([{"define": {"name": "listed-deny", "type": "deny"}}])
    page = text(admin.get("/admin/stages"))
    assert "<h2>Deny</h2>" in page
    row = page.split(">listed-deny</a>", 1)[1].split("</tr>", 1)[0]
    assert slug in row


def test_the_stage_list_paginates(app, admin):
    with app.app_context():
        total = db.session.scalar(select(db.func.count()).select_from(Stage))
    for index in range(51 - total):
        make_stage(app, f"zz-{index:02}")
    assert "51 stages · page 1 of 2" in text(admin.get("/admin/stages"))
    assert "page 2 of 2" in text(admin.get("/admin/stages?page=2"))


def test_a_stage_in_use_is_not_deleted_and_says_where(app, admin):
    with app.app_context():
        slug = make_flow([{"define": {"name": "busy", "type": "deny"}}])
    stage_id = stage_named(app, "busy").id
    page = text(admin.get(f"/admin/stages/{stage_id}/delete"))
    assert f"the flow {slug}" in page
    assert "Delete the stage</button>" not in page
    response = post(admin, f"/admin/stages/{stage_id}/delete")
    assert response.status_code == 409
    assert f"the flow {slug}" in text(response)
    assert stage_named(app, "busy") is not None
    assert events_of(app, "admin_stage_deleted") == []


def test_an_unused_stage_is_deleted(app, admin):
    stage_id = make_stage(app, "idle", options={"message": "Bye."})
    assert "Delete the stage</button>" in text(admin.get(f"/admin/stages/{stage_id}/delete"))
    assert post(admin, f"/admin/stages/{stage_id}/delete", csrf=False).status_code == 400
    response = post(admin, f"/admin/stages/{stage_id}/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/stages"
    assert stage_named(app, "idle") is None
    (event,) = events_of(app, "admin_stage_deleted")
    assert event.detail["before"] == {"name": "idle", "type": "deny", "options.message": "Bye."}
