"""A third relying party nobody here wrote: Apache httpd with mod_auth_openidc, from Debian's
packages, protecting /protected/ in front of a tiny app, with Gatehouse under gunicorn.

mod_auth_openidc discovers Gatehouse, sends the visitor to sign in with PKCE, and checks the ID
token itself (signature against the JWKS, iss, aud, nonce, at_hash) and `iss` in the answer
(RFC 9207); the app behind it sees only what it let through. Its calls to Gatehouse go through
a recording proxy here (OIDCOutgoingProxy), so the tests see how it authenticated at the token
endpoint and which refresh token it sent. A browser without JavaScript
(tests/http/applications/oidc.py) follows the redirects and fills Gatehouse's forms.

A missing apache2 or mod_auth_openidc skips these on a laptop; IDP_REQUIRE_APACHE=1 (set by
.ci/run) fails them instead.
"""

import base64
import html
import http.client
import itertools
import json
import os
import re
import secrets
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from idp.applications.loading import load_application
from idp.applications.manage import bind, create_application
from idp.core.extensions import db
from idp.identity.accounts import find_group
from tests.conftest import TEST_SECRET, make_test_app
from tests.deploy.conftest import (
    database_for,
    prepare_site_database,
    skip_unless_required,
    start_gunicorn,
    stop,
    wait_for_port,
)
from tests.http.applications.oidc import Browser
from tests.smtp_server import free_port
from tests.stub_server import StubHandler, serving

APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
NEEDED_MODULES = {
    "mpm_event_module": "mod_mpm_event.so",
    "authn_core_module": "mod_authn_core.so",
    "authz_core_module": "mod_authz_core.so",
    "authz_user_module": "mod_authz_user.so",
    "proxy_module": "mod_proxy.so",
    "proxy_http_module": "mod_proxy_http.so",
    "auth_openidc_module": "mod_auth_openidc.so",
}
# The virtual hosts, each a client of its own: how it authenticates at the token endpoint, and
# whether it keeps a refresh token and (its access token living ten minutes) refreshes it
# before every request it lets through.
CLIENTS = {
    "basic": {"auth": "client_secret_basic", "refreshes": False},
    "post": {"auth": "client_secret_post", "refreshes": False},
    "refreshing": {"auth": "client_secret_basic", "refreshes": True},
}
# Never reached: the browser below follows every hop, through Apache and back to the app.
NOWHERE = "nowhere:"
# mod_auth_openidc hands the app the claims as OIDC_CLAIM_<name> headers, and the user as this.
USER_HEADER = "X-Remote-User"
RETURN_LINK = re.compile(r'<a href="([^"]+)">Return to ')


def apache_missing() -> str | None:
    if not (APACHE.is_file() and os.access(APACHE, os.X_OK)):
        return f"{APACHE} is not installed (apt-get install apache2)"
    if not (MODULES / "mod_auth_openidc.so").is_file():
        return "mod_auth_openidc is not installed (apt-get install libapache2-mod-auth-openidc)"
    return None


@pytest.fixture(scope="module")
def apache_binary():
    skip_unless_required(apache_missing(), "IDP_REQUIRE_APACHE")
    return APACHE


class EchoApp(StubHandler):
    """The protected app: says what Apache told it, and keeps a note of every request."""

    seen: list = []

    def do_GET(self):
        answer = {
            "path": self.path,
            "user": self.headers.get(USER_HEADER),
            "claims": {
                name[len("OIDC_CLAIM_") :]: value
                for name, value in self.headers.items()
                if name.upper().startswith("OIDC_CLAIM_")
            },
        }
        type(self).seen.append(answer)
        self.answer(json.dumps(answer), "application/json")

    def do_POST(self):
        # mod_auth_openidc 2.4.12 ends the session a back-channel logout token names and then
        # lets the request go on to whatever serves its redirect URI, for the answer: here,
        # this app. Gatehouse wants a 200 to call the token delivered.
        self.posted_text()
        self.answer(b"", "text/plain")


class RecordingProxy(StubHandler):
    """The forward proxy mod_auth_openidc sends its own calls to Gatehouse through (discovery,
    keys, token, userinfo): it passes each on unchanged and keeps what was asked."""

    calls: list = []

    def do_GET(self):
        self._relay()

    def do_POST(self):
        self._relay()

    def _relay(self):
        target = urlsplit(self.path)  # a proxy is asked for the absolute address
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {
            name: value
            for name, value in self.headers.items()
            if name.lower() not in ("proxy-connection", "connection", "keep-alive")
        }
        type(self).calls.append(
            {
                "method": self.command,
                "path": target.path,
                "authorization": self.headers.get("Authorization"),
                "form": parse_qs(body.decode()) if body else {},
            }
        )
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=10)
        try:
            path = target.path + (f"?{target.query}" if target.query else "")
            connection.request(self.command, path, body=body or None, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        type(self).calls[-1]["answer"] = (response.status, data.decode(errors="replace"))
        self.send_response(response.status)
        for name, value in response.getheaders():
            if name.lower() not in ("connection", "keep-alive", "transfer-encoding"):
                self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)


def apache_config(folder: Path, site) -> Path:
    """One Apache, a virtual host on a port of its own for each client in CLIENTS."""
    modules = "\n".join(
        f"LoadModule {name} {MODULES / file}" for name, file in NEEDED_MODULES.items()
    )
    hosts = []
    for name, port in site.ports.items():
        client_id, secret = site.clients[name]
        refreshes = CLIENTS[name]["refreshes"]
        scope = "openid profile email" + (" offline_access" if refreshes else "")
        refresh = "OIDCRefreshAccessTokenBeforeExpiry 3600" if refreshes else ""
        hosts.append(
            f"""
Listen 127.0.0.1:{port}
<VirtualHost 127.0.0.1:{port}>
    ServerName localhost:{port}
    OIDCProviderMetadataURL {site.issuer(name)}.well-known/openid-configuration
    OIDCClientID {client_id}
    OIDCClientSecret {secret}
    OIDCProviderTokenEndpointAuth {CLIENTS[name]["auth"]}
    OIDCRedirectURI {site.redirect_uri(name)}
    OIDCCryptoPassphrase {secrets.token_hex(16)}
    OIDCScope "{scope}"
    OIDCPKCEMethod S256
    {refresh}
    OIDCRemoteUserClaim preferred_username
    OIDCAuthNHeader {USER_HEADER}
    OIDCCookie apache_{name}
    OIDCOutgoingProxy 127.0.0.1:{site.proxy_port}
    ProxyPass / http://127.0.0.1:{site.upstream_port}/
    <Location /protected/>
        AuthType openid-connect
        Require valid-user
    </Location>
</VirtualHost>
"""
        )
    # Started as root (CI), Apache drops to this user; the folder is only written before that.
    user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
    config = folder / "apache2.conf"
    config.write_text(
        f"""
ServerRoot {folder}
ServerName localhost
PidFile {folder}/apache2.pid
DefaultRuntimeDir {folder}
Mutex file:{folder} default
ErrorLog /dev/stderr
LogLevel warn auth_openidc:info
# A new connection for every request: after the error page mod_auth_openidc 2.4.12 shows for
# an answer it misreads (the refusal test), Apache sometimes closes a connection it had just
# offered to keep, and the browser's next request on it finds nobody.
KeepAlive Off
{user}
{modules}
{"".join(hosts)}
"""
    )
    return config


def start_apache(binary: Path, folder: Path, config: Path, ports) -> subprocess.Popen:
    """apache2 in the foreground, one process (-X), its log beside its configuration."""
    log = folder / "apache2.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(binary), "-X", "-d", str(folder), "-f", str(config)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    for port in ports:
        wait_for_port(port, process, log)
    return process


class Site:
    def __init__(self, folder):
        self.folder = folder
        self.gatehouse = free_port()
        self.proxy_port = 0
        self.upstream_port = 0
        self.ports = {name: free_port() for name in CLIENTS}
        self.clients = {}

    @property
    def id_url(self) -> str:
        return f"http://127.0.0.1:{self.gatehouse}"

    def issuer(self, name: str) -> str:
        return f"{self.id_url}/application/o/apache-{name}/"

    def app(self, name: str, path: str = "/protected/") -> str:
        # localhost, not 127.0.0.1: the browser keeps Apache's cookies apart from Gatehouse's.
        return f"http://localhost:{self.ports[name]}{path}"

    def redirect_uri(self, name: str) -> str:
        return self.app(name, "/protected/redirect_uri")

    def apache_log(self) -> str:
        return (self.folder / "apache2.log").read_text()

    def gatehouse_log(self) -> str:
        return (self.folder / "gunicorn.log").read_text()


@pytest.fixture(scope="module")
def site(apache_binary, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mod-auth-openidc")
    with database_for(folder, "gatehouse_mod_auth_openidc") as database_url:
        yield from _site(apache_binary, folder, database_url)


def _site(apache_binary, folder, database_url):
    site = Site(folder)
    app = make_test_app(folder, database_url, BASE_URL=site.id_url)
    with app.app_context():
        prepare_site_database()
        for name in CLIENTS:
            created = create_application(
                f"apache-{name}",
                f"Apache ({name})",
                "oauth2",
                {
                    "redirect_uris": [site.redirect_uri(name)],
                    "post_logout_redirect_uris": [site.app(name, "/signed-out")],
                    "backchannel_logout_uri": site.redirect_uri(name) + "?logout=backchannel",
                },
            )
            bind(load_application(f"apache-{name}"), group=find_group("staff"))
            db.session.commit()
            site.clients[name] = (created.facts["client_id"], created.secrets["client_secret"])
        db.engine.dispose()

    EchoApp.seen, RecordingProxy.calls = [], []
    with serving(EchoApp) as upstream, serving(RecordingProxy) as proxy:
        site.upstream_port, site.proxy_port = upstream.server_port, proxy.server_port
        processes = []
        try:
            processes.append(
                start_gunicorn(
                    folder,
                    site.gatehouse,
                    {
                        "IDP_DATABASE_URL": database_url,
                        "IDP_SECRET_KEY": TEST_SECRET,
                        "IDP_INSTANCE_PATH": str(folder / "instance"),
                        "IDP_BCRYPT_ROUNDS": "4",
                        "IDP_BASE_URL": site.id_url,
                    },
                )
            )
            config = apache_config(folder, site)
            processes.append(start_apache(apache_binary, folder, config, site.ports.values()))
            yield site
        finally:
            for process in reversed(processes):
                stop(process)


@pytest.fixture
def visitor():
    browser = Browser("http://localhost")
    yield browser
    browser.close()


def sign_in_through_apache(site, visitor, name, username):
    """Visit the protected app and sign in at Gatehouse; the last page reached."""
    kind, page = visitor.authorize(site.app(name), username, stop_at=NOWHERE)
    assert kind == "page"
    return page


def wait_until(look, done, seconds=10.0):
    """What `look` gives once `done` says so; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        found = look()
        if done(found):
            return found
        assert time.monotonic() < deadline, f"still not there after {seconds} s: {found!r}"
        time.sleep(0.1)


def token_requests(since: int) -> list[dict]:
    return [
        call for call in RecordingProxy.calls[since:] if call["path"] == "/application/o/token/"
    ]


@pytest.mark.parametrize("name", ["basic", "post"])
def test_an_anonymous_visit_signs_in_with_pkce_and_the_app_sees_the_claims(site, visitor, name):
    first = visitor.http.get(site.app(name, "/protected/reports?year=2026"))
    assert first.status_code == 302, site.apache_log()
    sent = urlsplit(first.headers["location"])
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == site.id_url + "/application/o/authorize/"
    query = {key: values[0] for key, values in parse_qs(sent.query).items()}
    client_id, secret = site.clients[name]
    assert query["client_id"] == client_id
    assert query["redirect_uri"] == site.redirect_uri(name)
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] and query["nonce"] and query["state"]

    calls = len(RecordingProxy.calls)
    kind, page = visitor.authorize(first.headers["location"], "mia", stop_at=NOWHERE)
    assert kind == "page" and page.status_code == 200, site.apache_log()
    assert str(page.url) == site.app(name, "/protected/reports?year=2026")
    answer = page.json()
    assert answer["path"] == "/protected/reports?year=2026"
    assert answer["user"] == "mia"
    assert answer["claims"]["preferred_username"] == "mia"
    assert answer["claims"]["email"] == "mia@example.test"
    assert answer["claims"]["groups"] == "staff"
    assert answer["claims"]["sub"]
    # What mod_auth_openidc checked the ID token against: the nonce it sent, the access token.
    assert answer["claims"]["nonce"] == query["nonce"]
    assert answer["claims"]["at_hash"]
    assert answer["claims"]["iss"] == site.issuer(name)
    assert answer["claims"]["aud"] == client_id

    # The code went back with its PKCE verifier, and the client authenticated the way it was
    # told to, only that way.
    (exchange,) = token_requests(calls)
    form = exchange["form"]
    assert form["grant_type"] == ["authorization_code"]
    assert form["code_verifier"]
    if CLIENTS[name]["auth"] == "client_secret_basic":
        expected = base64.b64encode(f"{quote(client_id)}:{quote(secret)}".encode()).decode()
        assert exchange["authorization"] == f"Basic {expected}"
        assert "client_secret" not in form
    else:
        assert exchange["authorization"] is None
        assert form["client_id"] == [client_id]
        assert form["client_secret"] == [secret]

    # The claims came from userinfo too, with the access token it was given.
    (userinfo,) = [c for c in RecordingProxy.calls[calls:] if c["path"].endswith("/userinfo/")]
    assert (
        userinfo["authorization"] == f"Bearer {json.loads(exchange['answer'][1])['access_token']}"
    )

    # Signed in at Apache: the next visit goes straight through.
    again = visitor.http.get(site.app(name, "/protected/again"))
    assert again.status_code == 200
    assert again.json()["user"] == "mia"


def test_a_client_that_refreshes_before_every_request_gets_a_new_refresh_token_each_time(
    site, visitor
):
    calls = len(RecordingProxy.calls)
    page = sign_in_through_apache(site, visitor, "refreshing", "mia")
    assert page.json()["user"] == "mia"
    for _visit in range(3):
        again = visitor.http.get(site.app("refreshing", "/protected/again"))
        assert again.status_code == 200, site.apache_log()
        assert again.json()["user"] == "mia"
        # The new ID token keeps the user (OpenID Connect Core 12.2).
        assert again.json()["claims"]["sub"] == page.json()["claims"]["sub"]

    # The code, then a refresh before each request the app got: each with the refresh token
    # the answer before gave (a reused one would have ended the whole family).
    exchanges = token_requests(calls)
    grants = [call["form"]["grant_type"] for call in exchanges]
    assert grants == [["authorization_code"]] + [["refresh_token"]] * 4
    for before, after in itertools.pairwise(exchanges):
        assert before["answer"][0] == 200, before["answer"]
        given = json.loads(before["answer"][1])["refresh_token"]
        assert after["form"]["refresh_token"] == [given]
    assert exchanges[-1]["answer"][0] == 200, exchanges[-1]["answer"]
    assert "oauth2_refresh_reuse_detected" not in site.gatehouse_log()


def test_a_user_the_bindings_refuse_sees_gatehouses_refusal_and_never_reaches_the_app(
    site, visitor
):
    seen = len(EchoApp.seen)
    kind, page = visitor.authorize(site.app("basic"), "otto", stop_at=NOWHERE)
    assert kind == "page"
    assert page.status_code == 403, page.text
    assert str(page.url).startswith(site.id_url + "/application/o/authorize/")
    assert "<h1>You may not use Apache (basic)</h1>" in page.text
    # The way back tells the client access_denied, with state and (RFC 9207) iss, and
    # mod_auth_openidc stops there with an error page of its own. (2.4.12 takes an answer with
    # `iss` and no code for a third-party-initiated login and says that it has no
    # target_link_uri; either way nobody gets in.)
    back = html.unescape(RETURN_LINK.search(page.text).group(1))
    assert back.startswith(site.redirect_uri("basic") + "?error=access_denied&")
    assert parse_qs(urlsplit(back).query)["iss"] == [site.issuer("basic")]
    answer = visitor.http.get(back)
    assert "<title>Error</title>" in answer.text, answer.text
    assert EchoApp.seen[seen:] == []
    # And Apache still lets nobody in.
    assert visitor.http.get(site.app("basic")).status_code == 302


def test_signing_out_at_the_app_ends_the_gatehouse_session_too(site, visitor):
    name = "basic"
    page = sign_in_through_apache(site, visitor, name, "mia")
    assert page.json()["user"] == "mia"

    # mod_auth_openidc's logout: its own session ends, and it sends the browser to Gatehouse's
    # end-session endpoint with the ID token as a hint and where to come back to.
    back = site.app(name, "/signed-out")
    logout = site.redirect_uri(name) + "?logout=" + quote(back, safe="")
    first = visitor.http.get(logout)
    assert first.status_code == 302, site.apache_log()
    sent = urlsplit(first.headers["location"])
    assert f"{sent.scheme}://{sent.netloc}{sent.path}" == site.issuer(name) + "end-session/"
    query = {key: values[0] for key, values in parse_qs(sent.query).items()}
    assert query["post_logout_redirect_uri"] == back
    assert query["id_token_hint"]
    kind, page = visitor.follow(first.headers["location"], stop_at=NOWHERE)
    assert kind == "page" and page.status_code == 200, page.text
    assert str(page.url).startswith(site.id_url)
    # Gatehouse's sign-out asks for a click (a prefetched page signs nobody out).
    kind, page = visitor.post_form(page, {}, stop_at=NOWHERE)
    assert kind == "page" and page.status_code == 200, page.text
    assert str(page.url) == back
    assert page.json()["user"] is None

    # Signed out at Gatehouse too: the app sends the visitor to sign in again.
    kind, page = visitor.follow(site.app(name), stop_at=NOWHERE)
    assert kind == "page"
    assert str(page.url).startswith(site.id_url)
    assert 'name="uid_field"' in page.text or 'name="password"' in page.text


def test_signing_out_at_gatehouse_ends_the_apache_session_by_back_channel(site, visitor):
    name = "post"
    page = sign_in_through_apache(site, visitor, name, "mia")
    assert page.json()["user"] == "mia"

    kind, page = visitor.follow(site.id_url + "/logout", stop_at=NOWHERE)
    assert kind == "page"
    kind, page = visitor.post_form(page, {}, stop_at=NOWHERE)
    assert kind == "page" and page.status_code < 400, page.text

    # Gatehouse posts the logout token once its answer is out: wait for Apache to hear it.
    signed_out = wait_until(lambda: visitor.http.get(site.app(name)), lambda r: r.is_redirect)
    assert signed_out.headers["location"].startswith(site.id_url + "/application/o/authorize/")
    # Apache took the token and said so.
    delivered = "back-channel logout delivered application=apache-post"
    assert wait_until(site.gatehouse_log, lambda log: delivered in log)
    assert "back-channel logout refused" not in site.gatehouse_log()
