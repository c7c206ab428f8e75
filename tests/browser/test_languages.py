"""A German browser gets German pages, and a user's choice on /me turns them French, with
JavaScript on and off; the audit (accessibility.py) reads the translated pages too."""

import pytest
from playwright.sync_api import expect

from tests.browser.pages import url_path
from tests.factories import PASSWORD

pytestmark = pytest.mark.usefixtures("instance_is_set_up")


@pytest.fixture
def german_visitor(new_context, javascript):
    context = new_context(java_script_enabled=javascript, locale="de-DE")
    return context.new_page()


def test_a_german_visitor_signs_in_in_german_and_chooses_french(german_visitor, make_user):
    page = german_visitor
    make_user(username="greta")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "de")
    expect(page.get_by_role("heading", name="Bei Gatehouse anmelden")).to_be_visible()
    page.get_by_label("Benutzername oder E-Mail").fill("greta")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    expect(page).to_have_url(url_path("/me$"))
    expect(page.get_by_role("heading", name="Hallo, greta")).to_be_visible()

    page.get_by_label("Sprache der Seiten und E-Mails").select_option("fr")
    page.get_by_role("button", name="Sprache speichern").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("status")).to_have_text("Votre langue a été enregistrée.")
    expect(page.get_by_role("heading", name="Où vous êtes connecté")).to_be_visible()
    expect(page.get_by_label("Langue des pages et des e-mails")).to_have_value("fr")
