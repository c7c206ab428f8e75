"""idp.core.http: page or fragment, and how to send the browser on, decided in one place."""

import pytest
from flask import Flask

from idp.core.http import is_htmx, redirect_to, sent_by_htmx

BARE = Flask(__name__)


@pytest.mark.parametrize(
    ("headers", "partial", "htmx"),
    [
        ({}, False, False),
        ({"HX-Request": "true"}, True, True),
        ({"HX-Request": "false"}, False, False),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False, True),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False, True),
    ],
)
def test_page_or_fragment(headers, partial, htmx):
    with BARE.test_request_context(headers=headers):
        assert is_htmx() is partial
        assert sent_by_htmx() is htmx


def test_a_plain_request_is_redirected_with_a_303():
    with BARE.test_request_context():
        response = redirect_to("/me")
    assert response.status_code == 303
    assert response.headers["Location"] == "/me"


def test_htmx_is_told_where_to_go_on_a_200():
    with BARE.test_request_context(headers={"HX-Request": "true"}):
        response = redirect_to("/me?name=Zoë")
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/me?name=Zo%C3%AB"
    assert "Location" not in response.headers
