"""Odd input gets a clear 4xx, never a 500."""

import pytest

from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user

AUTH = "default-authentication-flow"


@pytest.mark.parametrize(
    "form",
    [{"uid_field": "alice\x00"}, {"uid_field": "x", "extra": "\x00"}],
)
def test_nul_bytes_in_a_form_are_refused_with_400(flows, form):
    flows.open(AUTH)
    response = flows.submit(AUTH, form)
    assert response.status_code == 400
    assert "not allowed" in response.get_data(as_text=True)


def test_nul_bytes_in_the_url_are_refused_with_400(client):
    assert client.get("/flow/x%00y/").status_code == 400
    assert client.get("/login?next=/me%00").status_code == 400


@pytest.mark.parametrize("path", ["/flow/default-authentication-flow/", "/me", "/healthz"])
def test_a_raw_byte_that_is_not_utf8_in_the_query_is_a_400(client, path):
    """As a WSGI server may pass on a request line with a raw byte in it."""
    response = client.get(path, environ_overrides={"QUERY_STRING": "next=\xff"})
    assert response.status_code == 400
    assert b"characters that are not allowed" in response.data


def test_a_posted_form_that_is_not_utf8_is_a_400(flows):
    flows.open(AUTH)
    token = csrf_token(flows.page).encode()
    response = flows.client.post(
        f"/flow/{AUTH}/",
        data=b"uid_field=al\xffce&csrf_token=" + token,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400


@pytest.mark.parametrize("method", ["put", "delete", "patch"])
def test_other_methods_are_405(client, method):
    assert getattr(client, method)(f"/flow/{AUTH}/").status_code == 405


def test_an_oversized_body_is_413(flows):
    flows.open(AUTH)
    response = flows.client.post(f"/flow/{AUTH}/", data={"uid_field": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413


def test_non_ascii_names_match_in_any_case(app, flows):
    with app.app_context():
        make_user("Élodie", email="Élodie@example.test")
    for typed in ("élodie", "ÉLODIE", "élodie@EXAMPLE.test"):
        flows.client.get(f"/flow/{AUTH}/restart")
        flows.sign_in(typed, PASSWORD)
        assert flows.client.get("/me").status_code == 200, typed
        flows.client.get("/logout", follow_redirects=True)


def test_non_ascii_names_are_unique_in_any_case(app):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        make_user("Ørjan")
        with pytest.raises(IntegrityError):
            make_user("øRJAN")


def test_ids_too_large_for_the_database_are_a_400(app, flows):
    from tests.conftest import csrf_token

    with app.app_context():
        make_user("big")
    flows.sign_in("big", PASSWORD)
    page = flows.client.get("/me").get_data(as_text=True)
    response = flows.client.post(
        f"/me/sessions/{2**70}/revoke", data={"csrf_token": csrf_token(page)}
    )
    assert response.status_code in (400, 404)
