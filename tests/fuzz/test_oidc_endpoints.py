"""Hypothesis fuzzing of the OpenID Connect endpoints: any query string at the authorization
endpoint (signed in or not, parameters repeated, every response_mode), any form at the token,
introspection and revocation endpoints, any bearer token at userinfo. Never a 5xx or a
traceback, nothing written by a refused request, and the browser is never sent to an address
the client did not register."""

import base64
import html
import re
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import make_user
from tests.fuzz.strategies import FUZZ_SETTINGS, assert_sound, field_values, text_values
from tests.http.admin.conftest import signed_in
from tests.http.applications.oidc import REDIRECT_URI, make_client

FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)" data-submits-itself>')


def one_of_or_any(*values):
    """A likely value, or anything field_values makes (repeated parameters included)."""
    return st.one_of(st.sampled_from(values), field_values)


@pytest.fixture
def clients(app):
    confidential_id, secret = make_client(app)
    public_id, _none = make_client(app, slug="spa", public=True)
    return {"confidential": (confidential_id, secret), "public": (public_id, None)}


@pytest.fixture
def member(app):
    with app.app_context():
        return signed_in(app, make_user("fuzzy").username)


def authorization_queries(client_ids):
    likely = {
        "response_type": one_of_or_any("code", "token", "code id_token", "none"),
        "client_id": one_of_or_any(*client_ids),
        "redirect_uri": one_of_or_any(REDIRECT_URI, REDIRECT_URI + "x", "javascript:alert(1)"),
        "scope": one_of_or_any("openid", "openid profile email offline_access", "admin"),
        "response_mode": one_of_or_any("query", "fragment", "form_post", "jwt"),
        "prompt": one_of_or_any("none", "login", "consent", "none login", "select_account"),
        "code_challenge_method": one_of_or_any("S256", "plain"),
        "code_challenge": one_of_or_any("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
    }
    anything = dict.fromkeys(
        ["state", "nonce", "max_age", "login_hint", "id_token_hint", "request", "ui_locales"],
        text_values,
    )
    return st.fixed_dictionaries({}, optional={**likely, **anything})


def assert_stays_with_the_client(response) -> None:
    """A redirect leaves Gatehouse only for the registered redirect URI, and a form_post
    answer posts only there."""
    location = response.headers.get("Location")
    if (location and not location.startswith("/")) or (location or "").startswith("//"):
        target = urlsplit(location)
        assert f"{target.scheme}://{target.netloc}{target.path}" == REDIRECT_URI, location
    action = FORM_ACTION.search(response.get_data(as_text=True))
    if action:
        assert html.unescape(action.group(1)) == REDIRECT_URI


@FUZZ_SETTINGS
@given(data=st.data())
def test_any_authorization_request_is_answered_cleanly(app, client, member, clients, data):
    ids = [client_id for client_id, _secret in clients.values()]
    query = data.draw(authorization_queries(ids))
    browser = data.draw(st.sampled_from([client, member]))
    response = assert_sound(
        app, lambda: browser.get("/application/o/authorize/", query_string=query)
    )
    assert_stays_with_the_client(response)


def basic(client_id, secret) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@FUZZ_SETTINGS
@given(data=st.data())
def test_any_form_at_the_token_endpoints_is_answered_cleanly(app, client, clients, data):
    confidential_id, secret = clients["confidential"]
    form = data.draw(
        st.fixed_dictionaries(
            {},
            optional={
                "grant_type": one_of_or_any(
                    "authorization_code", "refresh_token", "client_credentials", "password"
                ),
                "code": text_values,
                "redirect_uri": one_of_or_any(REDIRECT_URI),
                "code_verifier": text_values,
                "refresh_token": text_values,
                "client_id": one_of_or_any(confidential_id, clients["public"][0]),
                "client_secret": one_of_or_any(secret),
                "token": text_values,
                "token_type_hint": one_of_or_any("access_token", "refresh_token"),
                "scope": text_values,
            },
        )
    )
    path = data.draw(
        st.sampled_from(
            ["/application/o/token/", "/application/o/introspect/", "/application/o/revoke/"]
        )
    )
    authorization = data.draw(
        st.sampled_from(
            [None, basic(confidential_id, secret), basic(confidential_id, "wrong"), "Basic !!"]
        )
    )
    headers = {"Authorization": authorization} if authorization else {}
    response = assert_sound(app, lambda: client.post(path, data=form, headers=headers))
    assert response.status_code in (200, 400, 401, 403, 405), response.status_code
    if response.status_code != 200:
        assert response.is_json, response.get_data(as_text=True)[:300]


@FUZZ_SETTINGS
@given(token=text_values, scheme=st.sampled_from(["Bearer", "bearer", "Basic", ""]))
def test_any_token_at_userinfo_is_answered_cleanly(app, client, token, scheme):
    header = f"{scheme} {token}".strip().replace("\n", " ").replace("\r", " ")
    response = assert_sound(
        app, lambda: client.get("/application/o/userinfo/", headers={"Authorization": header})
    )
    assert response.status_code in (400, 401)
