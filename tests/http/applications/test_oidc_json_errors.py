"""The endpoints clients call (token, userinfo, introspection, revocation, discovery, keys)
answer the app's own refusals in JSON, as RFC 6749 5.2 has them; the authorization endpoint,
which browsers open, still answers with a page."""

from tests.http.applications.oidc import make_client


def test_a_nul_character_at_the_token_endpoint_is_a_json_invalid_request(app, client):
    client_id, _secret = make_client(app)
    answer = client.post(
        "/application/o/token/",
        data={"grant_type": "authorization_code", "code": "a\x00b", "client_id": client_id},
    )
    assert answer.status_code == 400 and answer.is_json
    assert answer.json["error"] == "invalid_request"
    assert "characters" in answer.json["error_description"]


def test_an_unknown_application_has_no_discovery_document_in_json(client):
    answer = client.get("/application/o/nothing-here/.well-known/openid-configuration")
    assert answer.status_code == 404 and answer.is_json
    assert answer.json["error"] == "invalid_request"


def test_the_authorization_endpoint_still_answers_a_browser_with_a_page(app, client):
    make_client(app)
    answer = client.get("/application/o/authorize/", query_string={"client_id": "a\x00b"})
    assert answer.status_code == 400
    assert answer.mimetype == "text/html" and "not allowed" in answer.get_data(as_text=True)
