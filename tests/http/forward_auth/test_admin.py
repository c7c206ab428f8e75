"""The admin side of forward auth: a proxy application made in the admin's form, and the "test a
request" page that says what the proxy would be told, and why."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Flow, Provider
from tests.factories import make_group, make_user
from tests.http.admin.conftest import post, signed_in, text

TESTER = "/admin/applications/wiki/forward-auth-test"


@pytest.fixture
def admin(app):
    with app.app_context():
        make_user("root", superuser=True)
        staff = make_group("staff")
        make_user("mia", groups=[staff]).attributes = {"plan": "gold"}
        db.session.commit()
        make_user("otto")
    return signed_in(app, "root")


def proxy_form(app, **changes) -> dict:
    with app.app_context():
        flow_id = db.session.scalar(
            select(Flow.id).where(Flow.slug == "default-provider-authorization-implicit-consent")
        )
    form = {
        "name": "Wiki",
        "slug": "wiki",
        "launch_url": "",
        "description": "",
        "icon": "",
        "policy_engine_mode": "any",
        "authorization_flow": str(flow_id),
        "authentication_flow": "",
        "invalidation_flow": "",
        "option-external_host": "https://wiki.example.test",
        "option-mode": "single",
        "option-path_prefix": "",
        "option-extra_headers": "X-Plan: plan",
    }
    form.update(changes)
    return form


def test_the_proxy_type_is_offered_and_its_options_are_saved(app, admin):
    assert "/admin/applications/new/proxy" in text(admin.get("/admin/applications/new"))
    response = post(admin, "/admin/applications/new/proxy", proxy_form(app))
    assert response.status_code in (200, 303), text(response)
    with app.app_context():
        provider = db.session.scalar(select(Provider).where(Provider.type == "proxy"))
        assert provider.options["external_host"] == "https://wiki.example.test"
        assert provider.options["extra_headers"] == ["X-Plan: plan"]
    page = text(admin.get("/admin/applications/wiki"))
    assert "/api/authz/auth-request" in page
    assert TESTER in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("option-external_host", "wiki.example.test", "must be an address"),
        ("option-external_host", "https://wiki.example.test/path", "path_prefix"),
        ("option-path_prefix", "docs", "must start with /"),
        ("option-extra_headers", "Remote-User: plan", "set by Gatehouse itself"),
        ("option-extra_headers", "Bad Header: plan", "is not a header name"),
    ],
)
def test_bad_proxy_options_are_refused_at_their_field(app, admin, field, value, message):
    response = post(admin, "/admin/applications/new/proxy", proxy_form(app, **{field: value}))
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        assert db.session.scalar(select(Provider).where(Provider.type == "proxy")) is None


def test_an_address_another_application_claims_is_refused_on_create_and_edit(app, admin):
    assert post(admin, "/admin/applications/new/proxy", proxy_form(app)).status_code in (200, 303)
    docs = {"name": "Docs", "slug": "docs"}
    again = post(admin, "/admin/applications/new/proxy", proxy_form(app, **docs))
    assert again.status_code == 400
    assert "wiki.example.test is already the address of application &#39;wiki&#39;" in text(again)
    # Another path prefix under the same host is another address.
    docs_form = proxy_form(app, **docs, **{"option-path_prefix": "/docs"})
    assert post(admin, "/admin/applications/new/proxy", docs_form).status_code in (200, 303)
    moved = post(admin, "/admin/applications/docs/edit", proxy_form(app, **docs))
    assert moved.status_code == 400
    assert "is already the address of application" in text(moved)
    # The application keeps its own address when it is saved again.
    kept = post(admin, "/admin/applications/wiki/edit", proxy_form(app, name="Wiki 2"))
    assert kept.status_code == 303, text(kept)
    with app.app_context():
        prefixes = db.session.scalars(
            select(Provider.options).where(Provider.type == "proxy").order_by(Provider.id)
        ).all()
    assert [options["path_prefix"] for options in prefixes] == ["", "/docs"]


@pytest.fixture
def wiki(app, admin, runner):
    post(admin, "/admin/applications/new/proxy", proxy_form(app))
    assert runner.invoke(args=["apps", "bind", "wiki", "--group", "staff"]).exit_code == 0
    return admin


def test_the_tester_lets_a_member_through_with_the_headers(wiki):
    page = text(
        wiki.get(TESTER, query_string={"username": "mia", "url": "https://wiki.example.test/x"})
    )
    assert "Answer: 200" in page
    assert "Remote-User" in page and "mia" in page
    assert "X-Plan" in page and "gold" in page
    assert "group staff: passed" in page


def test_the_tester_refuses_an_outsider_and_says_why(wiki):
    response = wiki.get(
        TESTER, query_string={"username": "otto", "url": "https://wiki.example.test/"}
    )
    page = text(response)
    assert "Answer: 403" in page
    assert "otto may not use Wiki" in page
    assert "group staff: did not pass" in page


def test_the_tester_names_the_applications_that_claim_one_address(app, wiki, runner):
    args = ["apps", "create", "open", "--name", "Open", "--proxy"]
    assert runner.invoke(args=[*args, "--external-host", "https://o.example.test"]).exit_code == 0
    with app.app_context():  # written by hand: saving it would be refused
        from idp.applications.loading import load_application

        moved = load_application("open").provider
        moved.options = {**moved.options, "external_host": "https://wiki.example.test"}
        db.session.commit()
    page = text(wiki.get(TESTER, query_string={"username": "mia", "url": "https://other.test/"}))
    assert "Answer: 403" in page and "not an application Gatehouse protects" in page


@pytest.mark.parametrize(
    "query",
    [{"username": "nobody", "url": "https://wiki.example.test/"}, {"url": "ftp://x"}, {"url": ""}],
)
def test_the_tester_answers_bad_input_with_a_400(wiki, query):
    assert wiki.get(TESTER, query_string=query).status_code == 400


def test_the_tester_is_for_administrators_only(app, wiki):
    otto = signed_in(app, "otto")
    assert otto.get(TESTER).status_code == 403
    assert app.test_client().get(TESTER).status_code == 302


def test_the_tester_says_why_in_german(wiki):
    wiki.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    page = text(
        wiki.get(TESTER, query_string={"username": "otto", "url": "https://wiki.example.test/"})
    )
    assert "otto darf Wiki nicht verwenden." in page
    assert "Gruppe staff: nicht bestanden" in page
    assert "(eine beliebige Bindung)" in page
    assert "did not pass" not in page and "may not use" not in page
    page = text(wiki.get(TESTER, query_string={"username": "nobody", "url": "https://x.test/"}))
    assert "Es gibt keinen Benutzer &#39;nobody&#39;." in page
