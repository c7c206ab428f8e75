"""The admin's scope mappings: created and edited with the expression checked on saving,
chosen in an application's provider settings, kept while an application offers them, and
shown in the application's claims preview."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Provider, ScopeMapping
from tests.http.admin.conftest import events_of, post, text
from tests.http.admin.test_applications import create_grafana, new_form

QUOTA = '{"quota": user.attributes.get("quota", "1 GB")}'


def mapping_form(**changes) -> dict:
    return {"name": "nextcloud", "description": "Your quota", "expression": QUOTA, **changes}


def create_mapping(admin, **changes):
    return post(admin, "/admin/scope-mappings/new", mapping_form(**changes))


def mapping_named(app, name) -> ScopeMapping | None:
    with app.app_context():
        return db.session.scalar(select(ScopeMapping).where(ScopeMapping.name == name))


def offered(app) -> list:
    with app.app_context():
        return db.session.scalar(select(Provider.options))["scope_mappings"]


def test_an_administrator_creates_lists_and_edits_a_scope_mapping(app, admin):
    assert "/admin/scope-mappings" in text(admin.get("/admin/"))
    response = create_mapping(admin)
    assert response.status_code == 303
    mapping = mapping_named(app, "nextcloud")
    assert mapping.expression == QUOTA and mapping.description == "Your quota"
    listed = text(admin.get("/admin/scope-mappings"))
    assert "nextcloud" in listed and "no application yet" in listed
    edited = post(admin, f"/admin/scope-mappings/{mapping.id}", mapping_form(expression='{"a": 1}'))
    assert edited.status_code == 303
    assert mapping_named(app, "nextcloud").expression == '{"a": 1}'
    (created,) = events_of(app, "admin_scope_mapping_created")
    (changed,) = events_of(app, "admin_scope_mapping_edited")
    assert created.detail["after"]["name"] == "nextcloud"
    assert changed.detail["after"] == {"expression": '{"a": 1}'}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"expression": "user.name +"}, "The expression is not a valid expression"),
        ({"expression": "x" * 2001}, "longer than 2000 characters"),
        ({"expression": ""}, "This field is required"),
        ({"name": "profile"}, "Profile is a scope Gatehouse has built in"),
        ({"name": "two words"}, "A scope is 1 to 100 letters"),
        ({"description": "d" * 501}, "Field cannot be longer than 500 characters"),
    ],
)
def test_bad_scope_mappings_come_back_with_a_clear_message(app, admin, changes, message):
    response = create_mapping(admin, **changes)
    assert response.status_code == 400
    assert message in text(response)
    assert mapping_named(app, changes.get("name", "nextcloud")) is None


def test_a_taken_name_and_a_missing_csrf_token_are_refused(app, admin):
    assert create_mapping(admin).status_code == 303
    again = create_mapping(admin, description="other")
    assert again.status_code == 400 and "exists already" in text(again)
    forged = post(admin, "/admin/scope-mappings/new", mapping_form(name="other"), csrf=False)
    assert forged.status_code == 400
    assert mapping_named(app, "other") is None


def test_an_application_offers_a_scope_mapping_chosen_in_its_settings(app, admin):
    create_mapping(admin)
    create_grafana(app, admin)
    edit_page = text(admin.get("/admin/applications/grafana/edit"))
    assert 'value="nextcloud"' in edit_page and "nextcloud: Your quota" in edit_page
    saved = post(
        admin,
        "/admin/applications/grafana/edit",
        new_form(app, **{"option-scope_mappings": ["nextcloud"]}),
    )
    assert saved.status_code == 303, text(saved)
    assert offered(app) == ["nextcloud"]
    assert "grafana" in text(admin.get("/admin/scope-mappings"))
    unknown = post(
        admin,
        "/admin/applications/grafana/edit",
        new_form(app, **{"option-scope_mappings": ["nextcloud", "ghost"]}),
    )
    assert unknown.status_code == 400
    assert "there is no scope mapping &#39;ghost&#39;" in text(unknown)
    assert offered(app) == ["nextcloud"]


def test_an_offered_scope_mapping_is_neither_deleted_nor_renamed(app, admin):
    create_mapping(admin)
    create_grafana(app, admin, **{"option-scope_mappings": ["nextcloud"]})
    mapping_id = mapping_named(app, "nextcloud").id
    renamed = post(admin, f"/admin/scope-mappings/{mapping_id}", mapping_form(name="cloud"))
    assert renamed.status_code == 400 and "cannot be renamed while grafana" in text(renamed)
    assert "cannot be deleted" in text(admin.get(f"/admin/scope-mappings/{mapping_id}/delete"))
    refused = post(admin, f"/admin/scope-mappings/{mapping_id}/delete")
    assert refused.status_code == 409
    assert mapping_named(app, "nextcloud") is not None

    post(admin, "/admin/applications/grafana/edit", new_form(app))
    assert offered(app) == []
    deleted = post(admin, f"/admin/scope-mappings/{mapping_id}/delete")
    assert deleted.status_code == 303
    assert mapping_named(app, "nextcloud") is None
    assert events_of(app, "admin_scope_mapping_deleted")


def test_the_claims_preview_shows_what_scope_mappings_give_and_why_one_fails(app, admin, user_id):
    create_mapping(admin)
    create_mapping(admin, name="broken", expression="user.attributes.missing")
    create_grafana(app, admin, **{"option-scope_mappings": ["nextcloud", "broken"]})
    preview = text(admin.get("/admin/applications/grafana/preview?username=alice"))
    assert '"quota": "1 GB"' in preview
    assert '"_failed"' in preview and '"broken"' in preview and "missing" in preview
    # A preview is no real token: nothing is recorded.
    assert events_of(app, "oauth2_scope_mapping_failed") == []


def test_a_missing_scope_mapping_is_a_404(admin):
    assert admin.get("/admin/scope-mappings/99999").status_code == 404
    assert post(admin, "/admin/scope-mappings/99999/delete").status_code == 404
