"""Security headers on every kind of response: pages, fragments, redirects, errors (400, 404,
405, 503), static files and JSON."""

import re

import pytest

from tests import factories
from tests.conftest import make_test_app, serving
from tests.factories import PASSWORD
from tests.security.visitor import AUTH, Visitor


def assert_security_headers(response, what: str):
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp, what
    assert "script-src 'self'" in csp, what
    assert "default-src 'self'" in csp, what
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
    assert headers.get("X-Content-Type-Options") == "nosniff", what
    assert headers.get("X-Frame-Options") == "DENY", what
    assert headers.get("Referrer-Policy") in ("same-origin", "no-referrer"), what


def test_every_kind_of_response_has_the_security_headers(app, new_visitor, alice):
    visitor = new_visitor()
    page = visitor.open(AUTH)
    script = re.search(r'<script src="(/static/[^"]+)"', page.text).group(1)
    responses = {
        "page": page,
        "fragment": visitor.http.get(f"/flow/{AUTH}/", headers={"HX-Request": "true"}),
        "redirect": visitor.http.get("/login"),
        "form answer": visitor.submit(AUTH, {"uid_field": "alice"}),
        "form error": visitor.submit(AUTH, {"password": "wrong"}),
        "missing csrf": visitor.http.post(f"/flow/{AUTH}/", data={"password": "x"}),
        "not found": visitor.http.get("/no/such/page"),
        "unknown flow": visitor.http.get("/flow/no-such-flow/"),
        "wrong method": visitor.http.put(f"/flow/{AUTH}/"),
        "static file": visitor.http.get(script),
        "json": visitor.http.get("/healthz"),
        "signed out": visitor.http.get("/me"),
    }
    responses["htmx end of flow"] = visitor.post(
        f"/flow/{AUTH}/", {"password": PASSWORD}, headers={"HX-Request": "true"}
    )
    responses["signed in"] = visitor.http.get("/me")
    with app.app_context():
        factories.make_user("root", superuser=True)
    admin = new_visitor()
    admin.sign_in("root")
    responses["admin page"] = admin.http.get("/admin/users")
    statuses = {what: response.status_code for what, response in responses.items()}
    assert statuses["not found"] == 404 and statuses["wrong method"] == 405
    assert statuses["missing csrf"] == 400 and statuses["form error"] == 400
    assert statuses["admin page"] == 200
    assert "HX-Redirect" in responses["htmx end of flow"].headers
    for what, response in responses.items():
        assert_security_headers(response, what)


@pytest.fixture
def unreachable_database_server(tmp_path):
    # Nothing listens on port 1: every request that needs the database fails to connect.
    app = make_test_app(tmp_path, "postgresql+psycopg://gatehouse@127.0.0.1:1/gatehouse")
    with serving(app) as server:
        yield server


def test_the_database_unavailable_page_has_them_too(unreachable_database_server):
    visitor = Visitor(unreachable_database_server)
    for path in (f"/flow/{AUTH}/", "/readyz"):
        response = visitor.http.get(path)
        assert response.status_code == 503
        assert "Traceback" not in response.text
        assert_security_headers(response, path)
    visitor.close()
