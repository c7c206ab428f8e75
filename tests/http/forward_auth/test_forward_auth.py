"""Forward auth through the test client: the endpoints' answers, who gets in, where visitors are
sent, and the loop page. Real nginx and Caddy drive the same endpoints in tests/deploy/."""

from urllib.parse import parse_qs, urlsplit

import pytest

from idp.extensions import db
from idp.models import User
from tests.factories import PASSWORD, make_group, make_user

APP = "https://app.example.test"
AUTH_REQUEST = "/api/authz/auth-request"
FORWARD_AUTH = "/api/authz/forward-auth"


@pytest.fixture
def app_settings():
    return {
        "ENVIRON": {
            "IDP_TRUSTED_PROXIES": "127.0.0.1",
            "IDP_BASE_URL": "https://id.example.test",
            "IDP_COOKIE_DOMAIN": "example.test",
        }
    }


@pytest.fixture
def staff(app_context):
    return make_group("staff")


@pytest.fixture
def protected(runner, staff):
    result = runner.invoke(
        args=["apps", "create", "wiki", "--name", "Wiki", "--proxy", "--external-host", APP]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["apps", "bind", "wiki", "--group", "staff"])
    assert result.exit_code == 0, result.output
    return "wiki"


@pytest.fixture
def member(staff):
    return make_user("mia", groups=[staff], email="mia@example.test")


@pytest.fixture
def outsider(app_context):
    return make_user("otto")


def nginx_asks(client, url=APP + "/page?x=1", method="GET", **headers):
    return client.get(
        AUTH_REQUEST,
        headers={"X-Original-URL": url, "X-Original-Method": method, **headers},
    )


def caddy_asks(client, host="app.example.test", uri="/page?x=1", proto="https", **headers):
    return client.get(
        FORWARD_AUTH,
        headers={
            "X-Forwarded-Proto": proto,
            "X-Forwarded-Host": host,
            "X-Forwarded-Uri": uri,
            "X-Forwarded-Method": "GET",
            **headers,
        },
    )


def signed_in(client, flows, username):
    flows.sign_in(username, PASSWORD)
    assert client.get("/me").status_code == 200


def test_anonymous_gets_401_with_the_sign_in_address_for_nginx(client, protected):
    answer = nginx_asks(client)
    assert answer.status_code == 401
    location = urlsplit(answer.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == (
        "https",
        "id.example.test",
        "/forward-auth/start",
    )
    assert parse_qs(location.query)["rd"] == [APP + "/page?x=1"]
    assert "Remote-User" not in answer.headers
    assert "Set-Cookie" not in answer.headers


def test_anonymous_gets_302_for_caddy(client, protected):
    answer = caddy_asks(client)
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["Location"]).query)["rd"] == [APP + "/page?x=1"]


def test_member_gets_200_with_identity_headers(client, flows, protected, member):
    signed_in(client, flows, "mia")
    for answer in (nginx_asks(client), caddy_asks(client)):
        assert answer.status_code == 200
        assert answer.headers["Remote-User"] == "mia"
        assert answer.headers["Remote-Groups"] == "staff"
        assert answer.headers["Remote-Email"] == "mia@example.test"
        assert "Remote-Name" in answer.headers
        assert answer.headers["Cache-Control"] == "no-store"
        assert answer.get_data() == b""


def test_outsider_gets_403_and_the_page_says_why(client, flows, protected, outsider):
    signed_in(client, flows, "otto")
    assert nginx_asks(client).status_code == 403
    answer = caddy_asks(client)
    assert answer.status_code == 403
    assert "otto" in answer.get_data(as_text=True)
    assert "Wiki" in answer.get_data(as_text=True)
    page = client.get("/forward-auth/denied", query_string={"rd": APP + "/"})
    assert page.status_code == 403
    assert "may not use" in page.get_data(as_text=True)


def test_unknown_host_is_refused_never_waved_through(client, flows, protected, member):
    signed_in(client, flows, "mia")
    assert nginx_asks(client, url="https://other.example.test/").status_code == 403
    assert caddy_asks(client, host="evil.example.com").status_code == 403


def test_forwarded_headers_from_an_untrusted_address_are_not_believed(
    client, flows, protected, member
):
    signed_in(client, flows, "mia")
    answer = client.get(
        AUTH_REQUEST,
        headers={"X-Original-URL": APP + "/"},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert answer.status_code == 403
    assert "Remote-User" not in answer.headers


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Original-URL": "not a url"},
        {"X-Original-URL": "ftp://app.example.test/"},
        {"X-Original-URL": "https://user@app.example.test/"},
        {"X-Original-URL": "https://app.example.test:99999/"},
        {"X-Original-URL": "https://app.example.test/\r\nX: y"},
    ],
)
def test_a_missing_or_bad_original_url_is_a_clear_400(client, protected, headers):
    answer = client.get(AUTH_REQUEST, headers=headers)
    assert answer.status_code == 400


def test_sign_out_ends_access_at_the_app(client, flows, protected, member):
    signed_in(client, flows, "mia")
    assert nginx_asks(client).status_code == 200
    flows.sign_out()
    assert nginx_asks(client).status_code == 401


def test_disabling_the_user_ends_access(app, client, flows, protected, member):
    signed_in(client, flows, "mia")
    with app.app_context():
        db.session.get(User, member.id).is_active = False
        db.session.commit()
    assert nginx_asks(client).status_code == 401


def test_a_forged_cookie_is_anonymous(client, protected):
    client.set_cookie("__Secure-gatehouse_session", "forged.value.here", domain="localhost")
    assert nginx_asks(client).status_code == 401


def test_path_prefix_and_domain_mode(client, flows, runner, member):
    for args in (
        ["docs", "--name", "Docs", "--external-host", APP],
        ["all", "--name", "All of example.test", "--external-host", "https://example.test"],
    ):
        result = runner.invoke(args=["apps", "create", args[0], *args[1:], "--proxy"])
        assert result.exit_code == 0, result.output
    with runner.app.app_context():
        from idp.applications.loading import load_application

        docs = load_application("docs")
        docs.provider.options = {**docs.provider.options, "path_prefix": "/docs"}
        everything = load_application("all")
        everything.provider.options = {**everything.provider.options, "mode": "domain"}
        db.session.commit()
    result = runner.invoke(args=["apps", "bind", "docs", "--user", "nobody-else"])
    signed_in(client, flows, "mia")
    if result.exit_code == 0:
        # docs admits nobody but a user that does not exist; /docs belongs to it.
        assert nginx_asks(client, url=APP + "/docs/intro").status_code == 403
    assert nginx_asks(client, url=APP + "/documents").status_code == 200  # domain-wide app
    assert nginx_asks(client, url="https://deep.sub.example.test/").status_code == 200
    assert nginx_asks(client, url="https://example.com/").status_code == 403


def test_start_sends_an_anonymous_visitor_to_sign_in_and_back(client, flows, protected, member):
    answer = client.get("/forward-auth/start", query_string={"rd": APP + "/page?x=1"})
    assert answer.status_code == 303
    login = answer.headers["Location"]
    assert urlsplit(login).path == "/login"
    next_url = parse_qs(urlsplit(login).query)["next"][0]
    assert next_url.startswith("/forward-auth/start?rd=")
    flows.sign_in("mia", PASSWORD)
    back = client.get(next_url)
    assert back.status_code == 303
    assert back.headers["Location"] == APP + "/page?x=1"


def test_after_sign_in_the_flow_ends_on_the_start_page(client, flows, protected, member):
    start = client.get("/forward-auth/start", query_string={"rd": APP + "/a"})
    next_url = parse_qs(urlsplit(start.headers["Location"]).query)["next"][0]
    entrance = client.get("/login", query_string={"next": next_url})
    flow_url = entrance.headers["Location"]
    slug = urlsplit(flow_url).path.split("/")[2]
    flows.open(slug, next_url=parse_qs(urlsplit(flow_url).query)["next"][0])
    assert "next" in parse_qs(urlsplit(flow_url).query)
    assert parse_qs(urlsplit(flow_url).query)["next"] == [next_url]


@pytest.mark.parametrize(
    "rd",
    [
        "https://evil.example.com/",
        "https://app.example.test.evil.com/",
        "javascript:alert(1)",
        "//evil.example.com/",
        "",
    ],
)
def test_start_refuses_a_foreign_return_address(client, protected, rd):
    answer = client.get("/forward-auth/start", query_string={"rd": rd})
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_a_second_bounce_shows_why_instead_of_looping(client, flows, protected, member):
    signed_in(client, flows, "mia")
    first = client.get("/forward-auth/start", query_string={"rd": APP + "/"})
    assert first.status_code == 303
    second = client.get("/forward-auth/start", query_string={"rd": APP + "/"})
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "did not see your sign-in" in text
    # Gatehouse is served at localhost here, which is not under example.test.
    assert "Wrong domain" in text


def test_loop_page_names_http_versus_https(app, flows, protected, member):
    client = app.test_client()
    base = "https://id.example.test"
    flows.client = client
    flows.sign_in("mia", PASSWORD)
    client.get("/forward-auth/start", query_string={"rd": "http://app.example.test/"}, base_url=base)
    second = client.get(
        "/forward-auth/start", query_string={"rd": "http://app.example.test/"}, base_url=base
    )
    assert second.status_code in (303, 409)
