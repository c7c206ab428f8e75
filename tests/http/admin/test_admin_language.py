"""The admin speaks the operator's language like every other page: a German browser gets German
headings, labels, help, choices and validation errors, a French one French. Identifiers
(slugs, type names, field names) stay as they are."""

import re

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Application, PolicyBinding, Stage
from tests.http.admin.conftest import post, text


def html_language(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


@pytest.fixture
def german(admin):
    """The administrator's browser, asking for German."""
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de-DE,de;q=0.9,en;q=0.5"
    return admin


def deny_stage(app) -> int:
    with app.app_context():
        stage = Stage(name="no-entry", type="deny", options={})
        db.session.add(stage)
        db.session.commit()
        return stage.id


def test_the_dashboard_speaks_german(german):
    page = text(german.get("/admin/"))
    assert html_language(page) == "de"
    assert 'lang="en"' not in page
    assert "<h1>Übersicht</h1>" in page
    assert "Anmeldungen in den letzten 24 Stunden" in page
    assert ">Abläufe</a>" in page and ">Richtlinien</a>" in page
    assert "Dashboard" not in page and "Recent events" not in page


def test_the_flows_list_speaks_german(german):
    page = text(german.get("/admin/flows"))
    assert "<h1>Abläufe</h1>" in page
    assert "Ablauf anlegen" in page
    assert "Bestimmung" in page
    assert "default-authentication-flow" in page  # a slug is not translated


def test_a_stage_form_speaks_german(app, german):
    page = text(german.get(f"/admin/stages/{deny_stage(app)}"))
    assert "Phase no-entry" in page
    assert "Einstellungen" in page
    assert "Speichern" in page
    # The option's label and help, from the deny stage's options.
    assert "Meldung" in page
    assert "Was der Besucher liest, wenn der Ablauf hier abbricht." in page
    assert 'name="option-message"' in page  # the field's name is a contract


def test_a_validation_error_is_german(german):
    response = post(german, "/admin/flows/new", {"slug": "", "name": "x"})
    assert response.status_code == 400
    page = text(response)
    assert "Geben Sie einen Slug ein." in page
    assert "Enter a slug." not in page


def test_wtforms_own_messages_follow_the_browser_language(admin):
    """wtforms' catalog ("This field is required.") is loaded once per language and kept: the
    next browser, in another language, gets its own."""
    answers = {"name": "", "slug": "wiki", "client_type": "confidential"}
    for language, required in (
        ("de", "Dieses Feld wird benötigt."),
        ("fr", "Ce champ est requis."),
        ("de", "Dieses Feld wird benötigt."),
        ("en", "This field is required."),
    ):
        admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
        response = post(admin, "/admin/applications/new/oauth2", answers)
        assert response.status_code == 400
        assert required in text(response)


def test_a_flash_message_is_german(app, german):
    stage_id = deny_stage(app)
    response = post(german, f"/admin/stages/{stage_id}", {"name": "still-no-entry"})
    assert response.status_code == 303
    page = text(german.get(response.headers["Location"]))
    assert "Die Phase still-no-entry wurde gespeichert." in page


def test_the_admin_speaks_french_to_a_french_browser(admin):
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "fr-FR,fr;q=0.9"
    page = text(admin.get("/admin/flows"))
    assert html_language(page) == "fr"
    assert "<h1>Parcours</h1>" in page
    assert "Créer un parcours" in page


def test_english_stays_the_default(admin):
    page = text(admin.get("/admin/"))
    assert html_language(page) == "en"
    assert "<h1>Dashboard</h1>" in page


def test_the_administrators_own_choice_wins_over_the_browser(app, german, admin_name):
    from sqlalchemy import select

    from idp.models import User

    with app.app_context():
        db.session.scalar(select(User).where(User.username == admin_name)).language = "fr"
        db.session.commit()
    page = text(german.get("/admin/flows"))
    assert html_language(page) == "fr"
    assert "<h1>Parcours</h1>" in page


def refused_stage_settings(app, client, stage_type: str, option: str, value: str) -> str:
    """The page of a new stage of `stage_type` whose `option` is set to a bad `value`."""
    from idp.stages.registry import STAGE_TYPES
    from tests.http.admin.settings_data import default_form_data

    data = default_form_data(app, STAGE_TYPES[stage_type]) | {
        "name": "probe",
        f"option-{option}": value,
    }
    response = post(client, f"/admin/stages/new/{stage_type}", data)
    assert response.status_code == 400
    return text(response)


def test_a_settings_error_is_german(app, german):
    page = refused_stage_settings(app, german, "authenticator_static", "codes_count", "0")
    assert "muss zwischen 1 und 50 liegen" in page
    assert "must be between" not in page


# Explanations made outside the admin stay English where they are kept (the log, events, the
# CLI, the API) and are said in the operator's language where the admin shows them.


def test_the_policy_test_page_gives_a_policys_error_in_german(app, german):
    from tests.http.admin.test_policies import make_policy

    policy_id = make_policy(app, "old", "astrology")
    page = text(post(german, f"/admin/policies/{policy_id}/test", {"username": ""}))
    assert "der Richtlinientyp &#39;astrology&#39; ist nicht installiert" in page
    assert "is not installed" not in page


def test_the_simulation_gives_the_policy_engines_reasons_in_german(app, german):
    from tests.factories import make_flow
    from tests.http.admin.test_policies import make_policy

    make_policy(app, "old", "astrology")
    prompt = {"name": "asked", "type": "prompt", "options": {"fields": []}}
    query = {"user": "", "ip": "10.0.0.1"}
    with app.app_context():
        # The error counted as the binding's failure result; then failing closed.
        counted = make_flow(
            [{"define": prompt}],
            flow_policies=[{"policy": "old", "failure_result": True}],
            designation="stage_configuration",
        )
        stops = make_flow(
            [{"stage": "asked"}],
            flow_policies=[{"policy": "old"}],
            designation="stage_configuration",
        )
    page = text(german.get(f"/admin/flows/{counted}/simulate", query_string=query))
    assert "der Richtlinientyp &#39;astrology&#39; ist nicht installiert" in page
    assert "is not installed" not in page
    page = text(german.get(f"/admin/flows/{stops}/simulate", query_string=query))
    assert "der Richtlinientyp &#39;astrology&#39; ist nicht installiert" in page
    assert "Der Besucher liest: „Eine Regel für diesen Schritt konnte nicht geprüft" in page
    assert "could not be checked" not in page


def test_the_claims_preview_gives_its_reasons_in_german(app, german, user_id):
    from tests.factories import make_group
    from tests.http.admin.test_applications import create_grafana

    assert create_grafana(app, german).status_code == 200
    with app.app_context():
        application = db.session.scalar(select(Application).where(Application.slug == "grafana"))
        db.session.add(
            PolicyBinding(application_id=application.id, group=make_group("staff"), order=0)
        )
        db.session.commit()
    page = text(german.get("/admin/applications/grafana/preview?username=alice"))
    assert "Gruppe staff: nicht bestanden" in page
    assert "(eine beliebige Bindung)" in page
    assert "did not pass" not in page


def test_a_bad_upload_gets_its_problems_in_german(german):
    from tests.http.admin.test_flow_import import NEW_FLOW, upload

    bad = NEW_FLOW | {"flow": NEW_FLOW["flow"] | {"designation": "nonsense", "surprise": 1}}
    page = text(upload(german, "/admin/flows/import", bad))
    assert "flow: unbekannter Schlüssel &#39;surprise&#39; (erlaubt: " in page
    assert "flow.designation: muss eines von " in page
    assert "unknown key" not in page and "must be one of" not in page
    response = post(german, "/admin/flows/import/confirm", {"content": "flow: [unclosed"})
    assert response.status_code == 400
    assert "upload.yaml: kein gültiges YAML (Zeile " in text(response)


def test_a_settings_error_built_from_a_duration_check_is_german(app, german):
    page = refused_stage_settings(app, german, "user_login", "session_duration", "forever")
    assert "&#39;forever&#39; ist keine Dauer wie 30m, 8h, 1d12h oder 2w" in page
    assert "is not a duration" not in page
