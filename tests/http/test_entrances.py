import pytest

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


@pytest.mark.parametrize("path", ["/unenroll"])
def test_entrance_without_a_flow_is_a_clear_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "flow you can use here" in response.get_data(as_text=True)


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
