"""Pages in the visitor's language: the browser's Accept-Language, or the language a user
chose on /me, which wins on every browser they sign in from. English when neither names a
language Gatehouse speaks."""

import re
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from flask import g
from flask_babel import force_locale, refresh
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import User, UserSession
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, make_user

SIGN_IN = "default-authentication-flow"


def browser(app, language: str | None = None) -> FlowDriver:
    client = app.test_client()
    if language is not None:
        client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    return FlowDriver(client)


def sign_in_page(app, language: str | None) -> str:
    return browser(app, language).client.get(f"/flow/{SIGN_IN}/").get_data(as_text=True)


def html_language(page: str) -> str:
    return re.search(r'<html lang="([^"]+)"', page).group(1)


def test_the_sign_in_page_speaks_german_to_a_german_browser(app):
    page = sign_in_page(app, "de-DE,de;q=0.9,en;q=0.5")
    assert html_language(page) == "de"
    assert "<h1>Bei Gatehouse anmelden</h1>" in page
    assert "Passwort vergessen?" in page
    assert '<button type="submit" class="primary">Anmelden</button>' in page
    assert "Forgot your password?" not in page


def test_the_sign_in_page_speaks_french_to_a_french_browser(app):
    page = sign_in_page(app, "fr-CH, fr;q=0.9, en;q=0.8")
    assert html_language(page) == "fr"
    assert "<h1>Connexion à Gatehouse</h1>" in page
    assert "Mot de passe oublié ?" in page


@pytest.mark.parametrize("language", [None, "es-ES,es;q=0.9", "*", "xx"])
def test_a_language_gatehouse_does_not_speak_gets_english(app, language):
    page = sign_in_page(app, language)
    assert html_language(page) == "en"
    assert "<h1>Sign in to Gatehouse</h1>" in page
    assert "Forgot your password?" in page


def test_a_wrong_password_is_refused_in_the_visitors_language(app):
    with app.app_context():
        make_user("greta")
    german = browser(app, "de")
    german.open(SIGN_IN)
    page = german.submit(SIGN_IN, {"uid_field": "greta", "password": "not it"})
    assert "Benutzername oder Passwort ist falsch." in page.get_data(as_text=True)


def signed_in(app, username: str, language: str | None = None) -> FlowDriver:
    driver = browser(app, language)
    driver.sign_in(username, PASSWORD)
    return driver


def choose_language(driver: FlowDriver, language: str, csrf: bool = True):
    page = driver.client.get("/me").get_data(as_text=True)
    data = {"language": language}
    if csrf:
        data["csrf_token"] = csrf_token(page)
    return driver.client.post("/me/language", data=data)


def stored_language(app, username: str) -> str | None:
    with app.app_context():
        return db.session.scalar(select(User.language).where(User.username == username))


def test_the_language_chosen_on_me_beats_the_browsers_and_lasts_across_sessions(app):
    with app.app_context():
        make_user("hugo")
    german_browser = signed_in(app, "hugo", "de")
    assert 'lang="de"' in german_browser.client.get("/me").get_data(as_text=True)

    response = choose_language(german_browser, "fr")
    assert response.status_code == 303
    page = german_browser.client.get("/me").get_data(as_text=True)
    assert html_language(page) == "fr"
    assert "Votre langue a été enregistrée." in page
    assert '<option selected value="fr">Français</option>' in page
    assert stored_language(app, "hugo") == "fr"

    # Another browser, another session, a German browser: still French once signed in.
    elsewhere = signed_in(app, "hugo", "de")
    assert html_language(elsewhere.client.get("/me").get_data(as_text=True)) == "fr"
    # Signed out, the browser's own language is back.
    elsewhere.sign_out()
    assert html_language(elsewhere.client.get(f"/flow/{SIGN_IN}/").get_data(as_text=True)) == "de"


def test_browser_default_forgets_the_choice(app):
    with app.app_context():
        make_user("ines")
    driver = signed_in(app, "ines", "de")
    choose_language(driver, "en")
    assert html_language(driver.client.get("/me").get_data(as_text=True)) == "en"
    assert choose_language(driver, "").status_code == 303
    assert stored_language(app, "ines") is None
    assert html_language(driver.client.get("/me").get_data(as_text=True)) == "de"


@pytest.mark.parametrize("value", ["es", "xx", "de-DE", "english", "'; --"])
def test_a_language_not_offered_is_refused_with_a_clear_400(app, value):
    with app.app_context():
        make_user("jan")
    driver = signed_in(app, "jan")
    response = choose_language(driver, value)
    assert response.status_code == 400
    assert "Choose one of the languages offered." in response.get_data(as_text=True)
    assert stored_language(app, "jan") is None


def test_changing_the_language_needs_the_csrf_token(app):
    with app.app_context():
        make_user("kai")
    driver = signed_in(app, "kai")
    response = choose_language(driver, "de", csrf=False)
    assert response.status_code == 400
    assert stored_language(app, "kai") is None


def test_changing_the_language_needs_a_signed_in_user(app):
    client = app.test_client()
    assert client.get("/me/language").status_code == 405
    page = client.get(f"/flow/{SIGN_IN}/").get_data(as_text=True)
    response = client.post("/me/language", data={"language": "de", "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_dates_on_me_are_written_the_way_the_locale_writes_them(app):
    with app.app_context():
        user_id = make_user("lea").id
    driver = signed_in(app, "lea")
    with app.app_context():
        row = db.session.scalars(select(UserSession).where(UserSession.user_id == user_id)).one()
        row.created_at = datetime(2026, 3, 14, 15, 9, tzinfo=UTC)
        db.session.commit()
    english = driver.client.get("/me").get_data(as_text=True)
    assert ">Mar 14, 2026, 3:09\u202fPM</time>" in english or ">Mar 14, 2026, 3:09 PM</time>" in (
        english
    )
    choose_language(driver, "de")
    german = driver.client.get("/me").get_data(as_text=True)
    assert ">14.03.2026, 15:09</time>" in german
    assert "<th>Angemeldet (UTC)</th>" in german
    choose_language(driver, "fr")
    assert ">14 mars 2026, 15:09</time>" in driver.client.get("/me").get_data(as_text=True)


def test_a_page_with_a_form_reads_no_catalog_again(app, monkeypatch):
    """Flask-WTF would load wtforms' catalog from disk for every request that makes a form;
    Gatehouse's forms keep one per language."""
    from babel import support

    loads = []
    original = support.Translations.load
    monkeypatch.setattr(
        support.Translations,
        "load",
        classmethod(lambda cls, *args, **kwargs: loads.append(args) or original(*args, **kwargs)),
    )
    assert "Bei Gatehouse anmelden" in sign_in_page(app, "de")  # this worker's first, maybe
    loads.clear()
    for _ in range(3):
        assert "Bei Gatehouse anmelden" in sign_in_page(app, "de")
    assert loads == []


def test_a_page_follows_a_forced_language_and_a_refresh_within_one_request(app):
    """Templates find the request's catalog once and keep it where Flask-Babel keeps it:
    force_locale() and refresh() must still change the words of what is rendered next."""
    template = app.jinja_env.from_string('{{ _("Your language was saved.") }}')
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert template.render() == "Ihre Sprache wurde gespeichert."
        with force_locale("fr"):
            assert template.render() == "Votre langue a été enregistrée."
        assert template.render() == "Ihre Sprache wurde gespeichert."
        g._login_user = SimpleNamespace(language="fr")  # what choosing on /me does, then refresh
        refresh()
        assert template.render() == "Votre langue a été enregistrée."
