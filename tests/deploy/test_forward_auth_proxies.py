"""Forward auth for real: the shipped snippets deploy/forward-auth/nginx.conf (auth_request) and
deploy/forward-auth/Caddyfile (forward_auth), run by Debian's nginx and Caddy in front of a tiny
app on other host names, with Gatehouse under gunicorn, and Chromium mapping *.example.test to
loopback. JavaScript on and off.

A missing nginx or caddy skips these on a laptop; IDP_REQUIRE_NGINX=1 (.ci/run) fails them.
"""

import http.client
import json
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from idp.core.extensions import db
from tests import factories
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, TIMEOUT_MS
from tests.conftest import TEST_SECRET, make_test_app
from tests.deploy.conftest import (
    ROOT,
    database_for,
    prepare_site_database,
    skip_unless_required,
    start_gunicorn,
    start_nginx,
    stop,
    wait_for_port,
)
from tests.smtp_server import free_port
from tests.stub_server import StubHandler, serving

CADDY = Path("/usr/bin/caddy")
NGINX_APP = "app.example.test"
CADDY_APP = "caddy.example.test"
ID_HOST = "id.example.test"


class EchoApp(StubHandler):
    """The protected app: says who the proxy told it the user is (http.server reads header
    values as Latin-1; Gatehouse sends UTF-8)."""

    def do_GET(self):
        def header(name):
            value = self.headers.get(name)
            return value.encode("latin-1").decode() if value is not None else None

        identity = {
            "path": self.path,
            "user": header("Remote-User"),
            "groups": header("Remote-Groups"),
            "email": header("Remote-Email"),
        }
        self.answer(json.dumps(identity), "application/json")


def caddy_missing() -> str | None:
    return None if CADDY.is_file() else f"{CADDY} is not installed (apt-get install caddy)"


@pytest.fixture(scope="module")
def caddy_binary():
    skip_unless_required(caddy_missing(), "IDP_REQUIRE_NGINX")
    return CADDY


def nginx_site(folder: Path, port: int, gatehouse: int, upstream: int, base_url: str) -> Path:
    site = (ROOT / "deploy" / "forward-auth" / "nginx.conf").read_text()
    replacements = {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port};",
        "server_name app.example.org;": f"server_name {NGINX_APP};",
        "ssl_certificate     /etc/ssl/certs/app.example.org.pem;": "",
        "ssl_certificate_key /etc/ssl/private/app.example.org.key;": "",
        "http://127.0.0.1:8000/": f"http://127.0.0.1:{gatehouse}/",
        "http://127.0.0.1:3000;": f"http://127.0.0.1:{upstream};",
        "https://id.example.org": base_url,
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/forward-auth/nginx.conf no longer has {old!r}"
        site = site.replace(old, new)
    main = folder / "nginx.conf"
    main.write_text(
        f"""
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    {site}
}}
"""
    )
    return main


def start_caddy(binary: Path, folder: Path, port: int, gatehouse: int, upstream: int):
    site = (ROOT / "deploy" / "forward-auth" / "Caddyfile").read_text()
    replacements = {
        "app.example.org {": f"http://{CADDY_APP}:{port} {{",
        "127.0.0.1:8000": f"127.0.0.1:{gatehouse}",
        "127.0.0.1:3000": f"127.0.0.1:{upstream}",
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/forward-auth/Caddyfile no longer has {old!r}"
        site = site.replace(old, new)
    config = folder / "Caddyfile"
    config.write_text("{\n\tadmin off\n\tauto_https off\n}\n\n" + site)
    home = folder / "caddy-home"
    home.mkdir()
    environ = {
        **os.environ,
        "HOME": str(home),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CONFIG_HOME": str(home / "config"),
    }
    log = folder / "caddy.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(binary), "run", "--config", str(config), "--adapter", "caddyfile"],
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, log)
    return process


class Site:
    def __init__(self, folder, gatehouse, nginx, caddy):
        self.folder = folder
        self.gatehouse = gatehouse
        self.nginx = nginx
        self.caddy = caddy

    @property
    def id_url(self):
        return f"http://{ID_HOST}:{self.gatehouse}"

    def nginx_app(self, path="/"):
        return f"http://{NGINX_APP}:{self.nginx}{path}"

    def caddy_app(self, path="/"):
        return f"http://{CADDY_APP}:{self.caddy}{path}"


@pytest.fixture(scope="module")
def site(nginx_binary, caddy_binary, tmp_path_factory):
    folder = tmp_path_factory.mktemp("forward-auth")
    with database_for(folder, "gatehouse_forward_auth") as database_url:
        yield from _site(nginx_binary, caddy_binary, folder, database_url)


def _site(nginx_binary, caddy_binary, folder, database_url):
    gatehouse, nginx_port, caddy_port = free_port(), free_port(), free_port()
    base_url = f"http://{ID_HOST}:{gatehouse}"
    app = make_test_app(folder, database_url)
    runner = app.test_cli_runner()
    with app.app_context():
        prepare_site_database()
        db.engine.dispose()
    for slug, host, port in (("nginx-app", NGINX_APP, nginx_port), ("caddy-app", CADDY_APP, 0)):
        external = f"http://{host}:{port}" if port else f"http://{host}"
        result = runner.invoke(
            args=["apps", "create", slug, "--name", slug, "--proxy", "--external-host", external]
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["apps", "bind", slug, "--group", "staff"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()

    with serving(EchoApp) as upstream:
        processes = []
        try:
            processes.append(
                start_gunicorn(
                    folder,
                    gatehouse,
                    {
                        "IDP_DATABASE_URL": database_url,
                        "IDP_SECRET_KEY": TEST_SECRET,
                        "IDP_INSTANCE_PATH": str(folder / "instance"),
                        "IDP_BCRYPT_ROUNDS": "4",
                        "IDP_TRUSTED_PROXIES": "127.0.0.1",
                        "IDP_BASE_URL": base_url,
                        "IDP_COOKIE_DOMAIN": "example.test",
                    },
                )
            )
            config = nginx_site(folder, nginx_port, gatehouse, upstream.server_port, base_url)
            processes.append(start_nginx(nginx_binary, folder, config, nginx_port))
            processes.append(
                start_caddy(caddy_binary, folder, caddy_port, gatehouse, upstream.server_port)
            )
            yield Site(folder, gatehouse, nginx_port, caddy_port)
        finally:
            for process in reversed(processes):
                stop(process)
            shutil.rmtree(folder / "caddy-home", ignore_errors=True)


@pytest.fixture(scope="module")
def chromium(playwright):
    """Chromium with *.example.test mapped to loopback, from pytest-playwright's own (session)
    Playwright: a second sync Playwright in the same worker would meet its event loop."""
    if not CHROMIUM.is_file():
        if os.environ.get("IDP_REQUIRE_BROWSER") == "1":
            pytest.fail("IDP_REQUIRE_BROWSER=1 but Chromium is not installed", pytrace=False)
        pytest.skip("Chromium is not installed")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.example.test 127.0.0.1"],
    )
    yield browser
    browser.close()


def sign_in_here(page, username):
    """Whatever sign-in page the visitor was sent to: name, then password (one page or two)."""
    page.fill('input[name="uid_field"]', username)
    password = page.locator('input[name="password"]')
    if not password.count():
        page.locator('#stage button[type="submit"]').first.click()
        expect(page.locator('input[name="password"]')).to_be_visible()
    page.fill('input[name="password"]', factories.PASSWORD)
    page.locator('#stage button[type="submit"]').first.click()


@contextmanager
def at_the_app(site, chromium, proxy: str, path: str = "/", javascript: bool = False):
    """A browser that opened `path` of the app behind `proxy` (and was sent on to sign in):
    its page, and the address it will land back on."""
    context = chromium.new_context(java_script_enabled=javascript)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    target = (site.nginx_app if proxy == "nginx" else site.caddy_app)(path)
    page.goto(target)
    try:
        yield page, target
    finally:
        context.close()


def app_answer(page) -> dict:
    return json.loads(page.locator("body").inner_text())


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("proxy", ["nginx", "caddy"])
def test_a_visitor_signs_in_and_lands_back_at_the_app(site, chromium, proxy, javascript):
    with at_the_app(site, chromium, proxy, "/reports?year=2026", javascript) as (page, target):
        expect(page).to_have_url(re.compile("^" + re.escape(site.id_url)))
        sign_in_here(page, "mia")
        page.wait_for_url(target)
        answer = app_answer(page)
        assert answer == {
            "path": "/reports?year=2026",
            "user": "mia",
            "groups": "staff",
            "email": "mia@example.test",
        }
        # Signing out at Gatehouse ends access at the app at once.
        page.goto(site.id_url + "/logout")
        button = page.locator('#stage button[type="submit"]')
        if button.count():
            # The sign-out ends in a navigation (HX-Redirect with JavaScript, a 303 without).
            with page.expect_navigation():
                button.first.click()
        page.goto(site.id_url + "/me")
        assert "/flow/" in page.url, "still signed in at Gatehouse after signing out"
        page.goto(target)
        expect(page).to_have_url(re.compile("^" + re.escape(site.id_url)))


@pytest.mark.parametrize("proxy", ["nginx", "caddy"])
def test_a_name_that_is_no_latin1_reaches_the_app_as_utf8(site, chromium, proxy):
    with at_the_app(site, chromium, proxy) as (page, target):
        sign_in_here(page, "jürgen")
        page.wait_for_url(target)
        assert app_answer(page) == {
            "path": "/",
            "user": "jürgen",
            "groups": "Grüne 日本,staff",
            "email": "jürgen@example.test",
        }


@pytest.mark.parametrize("proxy", ["nginx", "caddy"])
def test_a_member_of_many_groups_gets_in(site, chromium, proxy):
    """Identity headers of 9 KiB: nginx refuses an answer whose headers outgrow its buffer
    (4 or 8 KiB unless the snippet says more), and auth_request makes that a 500."""
    with at_the_app(site, chromium, proxy) as (page, target):
        sign_in_here(page, "ingrid")
        page.wait_for_url(target)
        answer = app_answer(page)
        assert answer["user"] == "ingrid"
        assert len(answer["groups"].split(",")) == 65


@pytest.mark.parametrize("proxy", ["nginx", "caddy"])
def test_a_signed_in_outsider_is_refused_with_a_page_that_says_why(site, chromium, proxy):
    with at_the_app(site, chromium, proxy) as (page, _target):
        sign_in_here(page, "otto")
        expect(page.locator("h1")).to_have_text("Access denied")
        assert "otto" in page.content()


@pytest.mark.parametrize("proxy", ["nginx", "caddy"])
def test_a_spoofed_remote_user_never_reaches_the_app(site, proxy):
    port = site.nginx if proxy == "nginx" else site.caddy
    host = NGINX_APP if proxy == "nginx" else CADDY_APP
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request(
        "GET", "/", headers={"Host": f"{host}:{port}", "Remote-User": "admin", "Remote-Groups": "x"}
    )
    response = connection.getresponse()
    body = response.read()
    connection.close()
    # Anonymous: sent to sign in, and the app never answered.
    assert response.status == 302, body
    assert response.getheader("Location").startswith(site.id_url + "/forward-auth/start?rd=")
    assert b"admin" not in body


@pytest.mark.parametrize("path", ["/%ff", "/x%2F..%2Fadmin"])
@pytest.mark.parametrize("proxy", ["nginx", "caddy"])
def test_an_address_gatehouse_cannot_read_is_refused_not_a_proxy_error(site, proxy, path):
    """Any visitor can ask a protected app for such a path. nginx serves a 500 for any answer
    of auth_request but 2xx, 401 and 403; Caddy hands the answer (a 403) to the browser."""
    port = site.nginx if proxy == "nginx" else site.caddy
    host = NGINX_APP if proxy == "nginx" else CADDY_APP
    connection = http.client.HTTPConnection("127.0.0.1", port)
    connection.request("GET", path, headers={"Host": f"{host}:{port}"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    assert b'"path"' not in body  # the app never answered
    if proxy == "nginx":
        assert response.status == 302, body
        assert response.getheader("Location").startswith(site.id_url + "/forward-auth/denied")
    else:
        assert response.status == 403, body


def test_a_foreign_return_address_is_refused(site, chromium):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    answer = page.goto(site.id_url + "/forward-auth/start?rd=http://evil.example.com/")
    assert answer.status == 400
    assert page.url.startswith(site.id_url)
    context.close()
