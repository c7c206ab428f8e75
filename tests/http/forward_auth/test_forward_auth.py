"""Forward auth through the test client: the endpoints' answers, who gets in, where visitors are
sent, and the loop page. Real nginx and Caddy drive the same endpoints in tests/deploy/."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import delete, select, update

from idp.core.extensions import db
from idp.models import Group, User
from idp.providers.proxy import identity
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_group, make_user

APP = "https://app.example.test"
AUTH_REQUEST = "/api/authz/auth-request"
FORWARD_AUTH = "/api/authz/forward-auth"
REMOTE = ("Remote-User", "Remote-Groups", "Remote-Email", "Remote-Name")


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
def people(app):
    """mia is in staff, otto is not. Made in a context of their own: requests must not share
    the test's database session."""
    with app.app_context():
        staff = make_group("staff")
        make_user("mia", groups=[staff], email="mia@example.test")
        make_user("otto")


@pytest.fixture
def protected(runner, people):
    result = runner.invoke(
        args=["apps", "create", "wiki", "--name", "Wiki", "--proxy", "--external-host", APP]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["apps", "bind", "wiki", "--group", "staff"])
    assert result.exit_code == 0, result.output
    return "wiki"


@pytest.fixture
def member(people):
    return "mia"


@pytest.fixture
def outsider(people):
    return "otto"


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


def arrive(client, rd):
    """The app's proxy sent the browser here (a navigation from a sibling site)."""
    return client.get(
        "/forward-auth/start", query_string={"rd": rd}, headers={"Sec-Fetch-Site": "same-site"}
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
        {"X-Original-URL": "https://app.example.test/\x01"},
        {"X-Original-URL": "https://app.example.test/" + "a" * 9000},
    ],
)
def test_a_missing_or_bad_original_url_is_refused_with_a_403(client, protected, headers):
    """nginx takes any answer but 2xx, 401 and 403 for its own failure (a 500 to the visitor)."""
    answer = client.get(AUTH_REQUEST, headers=headers)
    assert answer.status_code == 403
    assert answer.data == b"The proxy did not say which address was asked for.\n"


def test_sign_out_ends_access_at_the_app(client, flows, protected, member):
    signed_in(client, flows, "mia")
    assert nginx_asks(client).status_code == 200
    flows.sign_out()
    assert nginx_asks(client).status_code == 401


def test_disabling_the_user_ends_access(app, client, flows, protected, member):
    signed_in(client, flows, "mia")
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "mia")).is_active = False
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
    answer = arrive(client, APP + "/page?x=1")
    assert answer.status_code == 303
    login = answer.headers["Location"]
    assert urlsplit(login).path == "/login"
    next_url = parse_qs(urlsplit(login).query)["next"][0]
    assert next_url.startswith("/forward-auth/start?rd=")
    flows.sign_in("mia", PASSWORD)
    back = client.get(next_url, headers={"Sec-Fetch-Site": "same-site"})
    assert back.status_code == 303
    assert back.headers["Location"] == APP + "/page?x=1"


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Upgrade-Insecure-Requests": "1"}],
    ids=["fetch-metadata", "plain-http-browser"],
)
def test_right_after_a_sign_in_form_the_way_back_is_a_refreshing_page(
    client, flows, protected, member, headers
):
    """Chromium holds a form post's redirects to the form page's CSP form-action 'self':
    the last hop to the app is a page that refreshes to it and links to it. Over plain HTTP
    to a host other than localhost, Chromium sends no Fetch Metadata at all."""
    flows.sign_in("mia", PASSWORD)
    if "Sec-Fetch-Site" not in headers:
        client.environ_base.pop("HTTP_SEC_FETCH_SITE", None)
    answer = client.get("/forward-auth/start", query_string={"rd": APP + "/a"}, headers=headers)
    assert answer.status_code == 200
    assert answer.headers["Refresh"] == f"0; url={APP}/a"
    assert f'href="{APP}/a"' in answer.get_data(as_text=True)


def test_a_client_without_fetch_metadata_is_sent_back_with_a_plain_redirect(
    client, flows, protected, member
):
    """HTTP libraries and scripts send no Sec-Fetch-Site and follow only 3xx answers."""
    flows.sign_in("mia", PASSWORD)
    client.environ_base.pop("HTTP_SEC_FETCH_SITE", None)
    answer = client.get("/forward-auth/start", query_string={"rd": APP + "/a"})
    assert (answer.status_code, answer.headers["Location"]) == (303, APP + "/a")


def test_after_sign_in_the_flow_ends_on_the_start_page(client, flows, protected, member):
    start = arrive(client, APP + "/a")
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
    answer = arrive(client, rd)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_a_second_bounce_shows_why_instead_of_looping(client, flows, protected, member):
    signed_in(client, flows, "mia")
    first = arrive(client, APP + "/")
    assert first.status_code == 303
    second = arrive(client, APP + "/")
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "did not see your sign-in" in text
    # Gatehouse is served at localhost here, which is not under example.test.
    assert "Wrong domain: Gatehouse is reached at localhost" in text


class HttpsClient(FlaskClient):
    """A browser at https://id.example.test, so the cookie domain applies."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_REFERER"] = "https://id.example.test/"

    def open(self, *args, **kwargs):
        kwargs.setdefault("base_url", "https://id.example.test")
        return super().open(*args, **kwargs)


@pytest.fixture
def https_client(app):
    app.test_client_class = HttpsClient
    return app.test_client()


def test_over_https_the_session_cookie_covers_the_cookie_domain(https_client, protected, member):
    flows = FlowDriver(https_client)
    answer = flows.sign_in("mia", PASSWORD)
    cookies = [c for c in answer.headers.getlist("Set-Cookie") if "gatehouse_session=" in c]
    assert cookies and cookies[-1].startswith("__Secure-gatehouse_session=")
    assert "Domain=example.test" in cookies[-1]
    assert "Secure" in cookies[-1] and "HttpOnly" in cookies[-1]
    assert https_client.get_cookie("__Host-gatehouse_session", domain="id.example.test") is None
    answer = nginx_asks(https_client)
    assert answer.status_code == 200
    assert answer.headers["Remote-User"] == "mia"


def test_a_host_only_cookie_from_before_the_setting_is_moved_not_lost(
    https_client, protected, member
):
    FlowDriver(https_client).sign_in("mia", PASSWORD)
    value = https_client.get_cookie("__Secure-gatehouse_session", domain="example.test").value
    https_client.delete_cookie("__Secure-gatehouse_session", domain="example.test")
    https_client.set_cookie("__Host-gatehouse_session", value, domain="id.example.test")
    answer = https_client.get("/me")
    assert answer.status_code == 200
    set_cookies = answer.headers.getlist("Set-Cookie")
    assert any(c.startswith("__Secure-gatehouse_session=") for c in set_cookies)
    assert any(c.startswith("__Host-gatehouse_session=;") for c in set_cookies)


def test_loop_page_names_http_versus_https(https_client, protected, member):
    FlowDriver(https_client).sign_in("mia", PASSWORD)
    plain_app = "http://app.example.test/"
    assert arrive(https_client, plain_app).status_code == 303
    answer = arrive(https_client, plain_app)
    assert answer.status_code == 409
    text = answer.get_data(as_text=True)
    assert "http versus https" in text
    assert "Wrong domain" not in text


def test_loop_page_blames_the_proxy_when_the_cookie_should_arrive(https_client, protected, member):
    FlowDriver(https_client).sign_in("mia", PASSWORD)
    arrive(https_client, APP + "/")
    answer = arrive(https_client, APP + "/")
    assert answer.status_code == 409
    assert "The proxy drops a header" in answer.get_data(as_text=True)


def test_the_bounce_window_passes(https_client, protected, member, time_machine):
    time_machine.move_to("2026-12-02 12:00:00", tick=False)
    FlowDriver(https_client).sign_in("mia", PASSWORD)
    assert arrive(https_client, APP).status_code == 303
    time_machine.shift(31)
    # Long after the first trip: a new visit, not a loop.
    assert arrive(https_client, APP).status_code == 303


def test_query_count_does_not_grow_with_applications_or_bindings(
    app, client, flows, runner, protected, member, query_counter
):
    signed_in(client, flows, "mia")
    nginx_asks(client)  # warm: the session's last-seen write is done
    few = query_counter.count(lambda: nginx_asks(client))
    for number in range(15):
        result = runner.invoke(
            args=[
                "apps", "create", f"extra{number}", "--name", f"Extra {number}", "--proxy",
                "--external-host", f"https://extra{number}.example.test",
            ]
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        runner.invoke(args=["apps", "bind", f"extra{number}", "--group", "staff"])
    with app.app_context():
        for number in range(5):
            make_group(f"more{number}")
    runner.invoke(args=["apps", "bind", "wiki", "--user", "mia"])
    # The edits changed the flows revision: the first answer loads the applications again (two
    # queries whatever their number), the ones after read only the session and its groups.
    reloaded = query_counter.count(lambda: nginx_asks(client))
    many = query_counter.count(lambda: nginx_asks(client))
    assert nginx_asks(client).status_code == 200
    assert many == few <= 2
    assert reloaded == few + 2


@pytest.mark.parametrize(
    "rd",
    [
        "https://evil.com\\.example.test/",
        "https://evil.com%5C.example.test/",
        "https://app.example.test\\@evil.com/",
        "https://app.example.test%2F@evil.com/",
        "https://app.example.test /",
    ],
)
def test_start_refuses_hosts_a_browser_would_read_otherwise(client, flows, protected, member, rd):
    signed_in(client, flows, "mia")
    answer = arrive(client, rd)
    assert answer.status_code == 400
    assert "Location" not in answer.headers


def test_a_backslash_in_the_original_host_is_refused(client, flows, protected, member):
    signed_in(client, flows, "mia")
    assert nginx_asks(client, url="https://evil.com\\.example.test/").status_code == 403


@pytest.fixture
def admin_area(runner, protected):
    """/admin of the same host is a second application, for staff only; the rest of the
    host is open to everyone signed in."""
    # Made elsewhere, then moved under the wiki's host: the command line sets no path prefix.
    result = runner.invoke(
        args=["apps", "create", "wiki-admin", "--name", "Wiki admin", "--proxy",
              "--external-host", "https://elsewhere.example.test"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with runner.app.app_context():
        from idp.applications.loading import load_application
        from idp.models import PolicyBinding

        area = load_application("wiki-admin")
        area.provider.options = {
            **area.provider.options,
            "external_host": APP,
            "path_prefix": "/admin",
        }
        wiki = load_application("wiki")
        for binding in list(wiki.policy_bindings):
            db.session.delete(binding)
        db.session.flush()
        db.session.add(
            PolicyBinding(
                application_id=area.id,
                group_id=db.session.scalar(select(Group.id).where(Group.name == "staff")),
            )
        )
        db.session.commit()


@pytest.mark.parametrize(
    "path",
    ["/admin/x", "/%61dmin/x", "//admin/x", "/./admin/x", "/x/../admin/x", "/ADMIN/x", "/Admin"],
)
def test_a_path_prefix_cannot_be_passed_by_another_spelling(
    client, flows, admin_area, outsider, path
):
    signed_in(client, flows, "otto")
    assert nginx_asks(client, url=APP + "/elsewhere").status_code == 200
    assert nginx_asks(client, url=APP + path).status_code == 403
    assert caddy_asks(client, uri=path).status_code == 403


@pytest.mark.parametrize(
    "path", ["/admin;x/y", "/%2e%2e/admin/x", "/x%2F..%2Fadmin", "/%2561dmin/x", "/a\\..\\admin"]
)
def test_paths_servers_read_in_different_ways_are_refused(
    client, flows, admin_area, outsider, path
):
    signed_in(client, flows, "otto")
    assert nginx_asks(client, url=APP + path).status_code == 403


@pytest.mark.parametrize("path", ["/%ff", "/%C0%AF/admin", "/wiki/%e2%82"])
def test_percent_encoded_bytes_that_are_no_utf8_are_refused_not_an_error(
    client, flows, protected, member, path
):
    """Any visitor can ask a protected app for /%ff: the proxy passes it on as it came."""
    for signed in (False, True):
        if signed:
            signed_in(client, flows, "mia")
        # The proxies' contract is 200, a way to sign in, or 403 (DESIGN.md).
        assert nginx_asks(client, url=APP + path).status_code == 403
        assert caddy_asks(client, uri=path).status_code == 403
        assert arrive(client, APP + path).status_code == 400


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Host": "pub.example.test, app.example.test"},
        {"X-Forwarded-Proto": "http, https"},
    ],
)
def test_a_list_in_a_forwarded_header_is_not_believed(client, flows, protected, member, headers):
    signed_in(client, flows, "mia")
    assert caddy_asks(client).status_code == 200
    answer = client.get(
        FORWARD_AUTH,
        headers={
            "X-Forwarded-Proto": "https",
            "X-Forwarded-Host": "app.example.test",
            "X-Forwarded-Uri": "/",
            **headers,
        },
    )
    assert answer.status_code == 403


def test_refusals_and_redirects_are_not_cached(client, flows, protected, outsider):
    assert nginx_asks(client).headers["Cache-Control"] == "no-store"
    assert caddy_asks(client).headers["Cache-Control"] == "no-store"
    signed_in(client, flows, "otto")
    assert nginx_asks(client).headers["Cache-Control"] == "no-store"
    assert caddy_asks(client).headers["Cache-Control"] == "no-store"


def test_control_characters_never_reach_an_identity_header(app, client, flows, protected):
    with app.app_context():
        make_user("zoe", groups=[db.session.scalar(select(Group).where(Group.name == "staff"))])
        db.session.scalar(select(User).where(User.username == "zoe")).name = "Zo\x01e\x1b[31m"
        db.session.commit()
    signed_in(client, flows, "zoe")
    answer = nginx_asks(client)
    assert answer.status_code == 200
    assert answer.headers["Remote-Name"] == "Zo e [31m"


def test_identity_headers_carry_any_name_as_utf8_on_one_line(app, client, flows, protected):
    """Latin-1 is all a header value holds: the UTF-8 bytes go as they are (what apps decode,
    as with Authelia and authentik), and nothing ends the header early."""
    with app.app_context():
        staff = db.session.scalar(select(Group).where(Group.name == "staff"))
        user = make_user(
            "jürgen", groups=[staff, make_group("Grüne 日本")], email="jü@example.test"
        )
        user.name = "Jürgen \r\nRemote-User: admin 🙂\u202e"
        db.session.commit()
    signed_in(client, flows, "jürgen")
    for answer in (nginx_asks(client), caddy_asks(client)):
        assert answer.status_code == 200
        sent = {name: answer.headers[name].encode("latin-1").decode() for name in REMOTE}
        assert sent["Remote-User"] == "jürgen"
        assert sent["Remote-Email"] == "jü@example.test"
        assert sent["Remote-Name"] == "Jürgen   Remote-User: admin 🙂\u202e"
        assert sent["Remote-Groups"] == "Grüne 日本,staff"
        assert answer.headers.getlist("Remote-User") == ["jÃ¼rgen"]


def test_a_group_name_the_list_cannot_carry_is_left_out(app, client, flows, protected):
    """Remote-Groups is comma-separated and apps trim its items: a group whose name holds a
    comma, a control character or outer spaces would read as other groups ("a,admins" as
    admins), so it is left out rather than mistaken."""
    with app.app_context():
        staff = db.session.scalar(select(Group).where(Group.name == "staff"))
        odd = [make_group(name) for name in ("a,admins", "editors\t", " owners", "x\ny")]
        make_user("zoe", groups=[staff, *odd])
    signed_in(client, flows, "zoe")
    assert nginx_asks(client).headers["Remote-Groups"] == "staff"
    assert caddy_asks(client).headers["Remote-Groups"] == "staff"


def test_the_kept_applications_follow_every_edit_made_elsewhere(
    app, client, flows, runner, protected, member
):
    """The protected applications are kept in the worker under the flows revision: an edit by
    the CLI, the admin or another node (here another session) is seen by the next answer."""
    from idp.models import Application, PolicyBinding, Provider

    signed_in(client, flows, "mia")
    assert nginx_asks(client).status_code == 200
    nginx_asks(client)  # kept now
    with app.app_context():  # staff's binding goes: bound to a group mia is not in
        make_group("others")
        db.session.execute(delete(PolicyBinding))  # a bulk delete, as SQL from elsewhere
        db.session.commit()
    runner.invoke(args=["apps", "bind", "wiki", "--group", "others"])
    assert nginx_asks(client).status_code == 403
    with app.app_context():  # back to staff, and the host moves
        binding = db.session.scalar(select(PolicyBinding))
        binding.group = db.session.scalar(select(Group).where(Group.name == "staff"))
        db.session.commit()
    assert nginx_asks(client).status_code == 200
    with app.app_context():
        provider = db.session.scalar(select(Provider))
        provider.options = {**provider.options, "external_host": "https://moved.example.test"}
        db.session.commit()
    assert nginx_asks(client).status_code == 403  # no longer protected here
    assert nginx_asks(client, url="https://moved.example.test/").status_code == 200
    with app.app_context():  # a bulk update of the application: it now lets nobody in
        db.session.execute(update(Application).values(policy_engine_mode="all"))
        make_group("nobody")
        db.session.commit()
    runner.invoke(args=["apps", "bind", "wiki", "--group", "nobody"])
    assert nginx_asks(client, url="https://moved.example.test/").status_code == 403
    with app.app_context():
        db.session.execute(update(Application).values(policy_engine_mode="any"))
        db.session.commit()
    assert nginx_asks(client, url="https://moved.example.test/").status_code == 200
    assert runner.invoke(args=["apps", "delete", "wiki"]).exit_code == 0
    assert nginx_asks(client, url="https://moved.example.test/").status_code == 403


def _create_proxy_app(runner, slug, host=APP):
    args = ["apps", "create", slug, "--name", slug.title(), "--proxy", "--external-host", host]
    return runner.invoke(args=args)


@pytest.mark.parametrize("restricted_first", [True, False])
def test_two_applications_claiming_one_address_let_nobody_through(
    app, client, flows, runner, people, restricted_first
):
    # Saving refuses a second application for an address (below); one that got there anyway
    # (SQL, a race between two admins) must not open what the first restricts, whichever of
    # the two the database lists first.
    def restricted():
        assert _create_proxy_app(runner, "wiki").exit_code == 0
        assert runner.invoke(args=["apps", "bind", "wiki", "--group", "staff"]).exit_code == 0

    def unrestricted():
        assert _create_proxy_app(runner, "open", "https://open.example.test").exit_code == 0

    for make in (restricted, unrestricted) if restricted_first else (unrestricted, restricted):
        make()
    with app.app_context():
        from idp.applications.loading import load_application

        moved = load_application("open")
        moved.provider.options = {**moved.provider.options, "external_host": APP}
        db.session.commit()
    signed_in(client, flows, "otto")

    assert nginx_asks(client).status_code == 403
    answer = caddy_asks(client)
    assert answer.status_code == 403
    refusal = answer.get_data(as_text=True)
    assert "claimed alike by more than one application" in refusal
    assert "Open" not in refusal and "Wiki" not in refusal  # named to the admin alone


def test_a_second_application_for_an_address_is_refused_when_saved(runner, protected):
    result = _create_proxy_app(runner, "again", APP + "/")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "Error: app.example.test is already the address of application 'wiki'"
    ]
    assert _create_proxy_app(runner, "other", "https://other.example.test").exit_code == 0


def _with_extra_headers(app, username: str, attributes: dict, lines: list[str]) -> None:
    from idp.models import Provider

    with app.app_context():
        db.session.scalar(select(User).where(User.username == username)).attributes = attributes
        provider = db.session.scalar(select(Provider))
        provider.options = {**provider.options, "extra_headers": lines}
        db.session.commit()


def test_extra_headers_carry_the_users_attributes(app, client, flows, protected, member):
    _with_extra_headers(app, member, {"plan": "gold", "desk": 42}, ["X-Plan: plan", "X-Desk: desk"])
    signed_in(client, flows, member)
    answer = nginx_asks(client)
    assert (answer.headers["X-Plan"], answer.headers["X-Desk"]) == ("gold", "42")


def test_an_extra_header_value_over_its_cap_is_left_out_and_logged(
    app, client, flows, protected, member, caplog
):
    """A value is sent whole or not at all: cut short it would be another value."""
    limit = identity.EXTRA_HEADER_VALUE_BYTES
    attributes = {
        "exact": "e" * limit,
        "long": "l" * (limit + 1),
        # Fewer characters than the cap, more bytes: the cap counts the UTF-8 bytes sent.
        "wide": "ü" * (limit // 2 + 1),
        "plan": "gold",
    }
    lines = ["X-Exact: exact", "X-Long: long", "X-Wide: wide", "X-Plan: plan"]
    _with_extra_headers(app, member, attributes, lines)
    signed_in(client, flows, member)
    caplog.set_level(logging.WARNING, logger="idp.forward_auth")
    for answer in (nginx_asks(client), caddy_asks(client)):
        assert answer.status_code == 200
        assert answer.headers["X-Exact"] == "e" * limit
        assert "X-Long" not in answer.headers
        assert "X-Wide" not in answer.headers
        assert answer.headers["X-Plan"] == "gold"
        assert answer.headers["Remote-User"] == member
    left_out = [record for record in caplog.records if record.name == "idp.forward_auth"]
    assert {(record.header, record.attribute) for record in left_out} == {
        ("X-Long", "long"),
        ("X-Wide", "wide"),
    }
    assert all(record.application == "wiki" for record in left_out)
    assert "l" * 100 not in caplog.text  # the value itself is not logged


def test_extra_headers_over_the_total_cap_are_left_out_and_logged(
    app, client, flows, protected, member, caplog
):
    """Each value fits, all of them together do not: those that would pass the total are
    left out, in the order the application names them; a later one that fits still goes."""
    part = identity.EXTRA_HEADER_VALUE_BYTES - 100
    count = identity.EXTRA_HEADERS_BYTES // part
    attributes = {f"a{index}": str(index) * part for index in range(count + 1)}
    attributes["plan"] = "gold"
    lines = [f"X-A{index}: a{index}" for index in range(count + 1)] + ["X-Plan: plan"]
    _with_extra_headers(app, member, attributes, lines)
    signed_in(client, flows, member)
    caplog.set_level(logging.WARNING, logger="idp.forward_auth")
    answer = nginx_asks(client)
    assert answer.status_code == 200
    assert [f"X-A{index}" in answer.headers for index in range(count + 1)] == [True] * count + [
        False
    ]
    assert answer.headers["X-Plan"] == "gold"
    extra = sum(
        len(name) + len(value.encode("latin-1"))
        for name, value in answer.headers.items()
        if name.startswith("X-")
    )
    assert extra <= identity.EXTRA_HEADERS_BYTES
    (record,) = [record for record in caplog.records if record.name == "idp.forward_auth"]
    assert record.header == f"X-A{count}"
