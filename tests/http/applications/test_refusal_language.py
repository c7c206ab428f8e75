"""An authorization request Gatehouse cannot send back to its application ends on a page for
the person in the browser: that page speaks their language. The OAuth error code on it, and
what a client receives as error/error_description, stay English (RFC 6749)."""

from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import authorize_url

GERMAN = {"Accept-Language": "de-DE,de;q=0.9"}


def test_an_unregistered_redirect_uri_is_explained_in_german(app):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, redirect_uri="https://evil.example.test/callback")
    response = app.test_client().get(url, headers=GERMAN)
    assert response.status_code == 400
    assert "location" not in response.headers
    page = response.get_data(as_text=True)
    assert "Diese Anmeldeanfrage kann nicht beantwortet werden" in page
    assert (
        "Die Adresse https://evil.example.test/callback ist keine, zu der diese Anwendung "
        "zurückzukehren registriert hat."
    ) in page
    assert "<code>invalid_request</code>" in page
    assert "is not supported by client" not in page


def test_an_unknown_client_is_explained_in_german(app):
    response = app.test_client().get(authorize_url("no-such-client"), headers=GERMAN)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Keine Anwendung mit dieser Client-ID ist hier bekannt." in page
    assert "<code>invalid_client</code>" in page


def test_the_page_stays_english_for_an_english_browser(app):
    response = app.test_client().get(authorize_url("no-such-client"))
    assert "The client does not exist on this server." not in response.get_data(as_text=True)
    assert "No application with this client ID is known here." in response.get_data(as_text=True)
