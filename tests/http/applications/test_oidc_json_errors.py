"""The endpoints clients call (token, userinfo, introspection, revocation, discovery, keys)
answer the app's own refusals in JSON, as RFC 6749 5.2 has them; the authorization endpoint,
which browsers open, still answers with a page."""

import base64

import pytest

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


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/application/o/token/"),
        ("PUT", "/application/o/introspect/"),
        ("DELETE", "/application/o/revoke/"),
        ("POST", "/application/o/rp/jwks/"),
    ],
)
def test_a_method_an_endpoint_does_not_take_is_refused_in_json(app, client, method, path):
    make_client(app)
    answer = client.open(path, method=method)
    assert answer.status_code == 405 and answer.is_json, answer.get_data(as_text=True)[:200]
    assert answer.json["error"] == "invalid_request"
    assert method not in answer.headers["Allow"]


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/application/o/token/", {"grant_type": "client_credentials"}),
        ("/application/o/introspect/", {"token": "x"}),
        ("/application/o/revoke/", {"token": "x"}),
    ],
)
def test_basic_credentials_that_are_no_utf8_are_an_invalid_client(app, client, path, form):
    make_client(app)
    unreadable = base64.b64encode(b"\xff\xfe:\xff").decode()
    answer = client.post(path, data=form, headers={"Authorization": f"Basic {unreadable}"})
    assert answer.status_code == 401 and answer.json["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic ")


def basic(client_id, secret) -> dict:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def test_a_client_authenticates_in_one_way_only(app, client):
    """RFC 6749 2.3: a wrong secret beside a right one is never passed over."""
    client_id, secret = make_client(app)
    other_id, _other = make_client(app, slug="other")
    service = {"grant_type": "client_credentials"}
    token = "/application/o/token/"
    assert client.post(token, data=service, headers=basic(client_id, secret)).status_code == 200
    for form, headers in (
        ({"client_id": client_id, "client_secret": secret}, basic(client_id, "wrong")),
        ({"client_id": client_id, "client_secret": "wrong"}, basic(client_id, secret)),
        ({"client_id": other_id}, basic(client_id, secret)),
    ):
        answer = client.post(token, data={**service, **form}, headers=headers)
        assert answer.status_code == 400 and answer.json["error"] == "invalid_request", form
    # Naming the same client in the form beside Basic is one way still.
    answer = client.post(
        token, data={**service, "client_id": client_id}, headers=basic(client_id, secret)
    )
    assert answer.status_code == 200


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
    ],
)
def test_a_missing_grant_type_is_an_invalid_request(app, client, form, error):
    """RFC 6749 5.2: invalid_request for a missing parameter; unsupported_grant_type only for
    a grant type the server does not offer."""
    client_id, secret = make_client(app)
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    answer = client.post(
        "/application/o/token/", data=form, headers={"Authorization": f"Basic {basic}"}
    )
    assert answer.status_code == 400 and answer.is_json
    assert answer.json["error"] == error
