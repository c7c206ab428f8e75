import pytest
from sqlalchemy import delete, select

from idp.core.extensions import db
from idp.models import Flow
from tests.factories import PASSWORD, make_flow, make_user


@pytest.mark.parametrize(
    ("path", "slug"),
    [
        ("/login", "default-authentication-flow"),
        ("/logout", "default-invalidation-flow"),
        ("/enroll", "default-enrollment-flow"),
        ("/recover", "default-recovery-flow"),
    ],
)
def test_entrances_redirect_to_the_flow_of_their_designation(client, path, slug):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/flow/{slug}/"


def test_entrances_keep_a_safe_next(client):
    assert client.get("/login?next=/me").headers["Location"] == (
        "/flow/default-authentication-flow/?next=/me"
    )
    assert client.get("/login?next=//evil.example").headers["Location"] == (
        "/flow/default-authentication-flow/"
    )


def test_entrance_without_a_flow_is_a_clear_404(app, client):
    with app.app_context():
        db.session.execute(delete(Flow).where(Flow.designation == "unenrollment"))
        db.session.commit()
    response = client.get("/unenroll")
    assert response.status_code == 404
    assert "flow you can use here" in response.get_data(as_text=True)


def test_unenroll_sends_an_anonymous_visitor_to_sign_in_and_back(app, flows):
    with app.app_context():
        make_user("una")
    response = flows.client.get("/unenroll")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/unenroll"
    response = flows.client.get(response.headers["Location"])
    assert response.headers["Location"] == "/flow/default-authentication-flow/?next=/unenroll"
    flows.open("default-authentication-flow", next_url="/unenroll")
    flows.submit("default-authentication-flow", {"uid_field": "una"}, next_url="/unenroll")
    response = flows.submit(
        "default-authentication-flow", {"password": PASSWORD}, next_url="/unenroll"
    )
    assert response.headers["Location"] == "/unenroll"
    assert flows.client.get("/unenroll").headers["Location"] == "/flow/default-unenrollment-flow/"


def test_unenroll_keeps_next_through_signing_in(client):
    location = client.get("/unenroll?next=/goodbye").headers["Location"]
    assert location == "/login?next=/unenroll?next%3D/goodbye"
    assert client.get(location).headers["Location"] == (
        "/flow/default-authentication-flow/?next=/unenroll?next%3D/goodbye"
    )


def test_unenroll_sends_an_anonymous_htmx_request_to_sign_in_whole(client):
    response = client.get("/unenroll", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/login?next=/unenroll"


def test_an_anonymous_visitor_denied_by_a_policy_is_not_sent_to_sign_in(app, client):
    """Signing in helps only where the flow asks for a signed-in user."""
    with app.app_context():
        flow = db.session.scalar(select(Flow).where(Flow.designation == "recovery"))
        make_flow(
            [{"stage": "default-authentication-identification"}],
            slug=flow.slug,
            designation="recovery",
            policies=[{"name": "never", "type": "dummy", "options": {"result": False}}],
            flow_policies=[{"policy": "never"}],
        )
    assert client.get("/recover").status_code == 404


def test_the_first_usable_flow_by_slug_is_chosen(app, client):
    with app.app_context():
        make_flow(
            [{"stage": "default-authentication-identification"}],
            slug="a-closed-login",
            policies=[{"name": "never", "type": "dummy", "options": {"result": False}}],
            flow_policies=[{"policy": "never"}],
        )
        make_flow([{"stage": "default-authentication-identification"}], slug="b-open-login")
    assert client.get("/login").headers["Location"] == "/flow/b-open-login/"


def test_a_flow_whose_gate_errors_is_not_offered(app, client):
    with app.app_context():
        make_flow(
            [{"stage": "default-authentication-identification"}],
            slug="a-broken-login",
            policies=[{"name": "err", "type": "dummy", "options": {"raise_error": True}}],
            flow_policies=[{"policy": "err"}],
        )
    assert client.get("/login").headers["Location"] == "/flow/default-authentication-flow/"


def test_me_requires_sign_in_and_comes_back_after(app, flows):
    with app.app_context():
        make_user("zoe")
    response = flows.client.get("/me")
    assert response.headers["Location"] == "/login?next=/me"
    flows.open("default-authentication-flow", next_url="/me")
    flows.submit("default-authentication-flow", {"uid_field": "zoe"}, next_url="/me")
    response = flows.submit("default-authentication-flow", {"password": PASSWORD}, next_url="/me")
    assert response.headers["Location"] == "/me"


def test_front_page_sends_a_signed_in_user_to_me(app, flows):
    with app.app_context():
        make_user("amy", superuser=True)
    flows.sign_in("amy", PASSWORD)
    assert flows.client.get("/").headers["Location"] == "/me"


def test_health_and_readiness(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}


def test_readiness_reports_an_unreachable_database(tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, "sqlite:////nonexistent-dir/x.db")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


@pytest.mark.parametrize(
    ("path", "designation"), [("/login", "authentication"), ("/logout", "invalidation")]
)
def test_signing_in_and_out_never_send_to_sign_in_first(app, client, path, designation):
    """Even where an administrator set the flow to ask for a signed-in user: /login would send
    the visitor to itself."""
    with app.app_context():
        for flow in db.session.scalars(select(Flow).where(Flow.designation == designation)):
            flow.authentication = "require_authenticated"
        db.session.commit()
    response = client.get(path)
    assert response.status_code == 404
    assert "flow you can use here" in response.get_data(as_text=True)
