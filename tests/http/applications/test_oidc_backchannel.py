"""Back-channel logout 1.0: when a session ends, each application it signed in to that
registered a backchannel_logout_uri gets a logout token. The receiving end is a real little
HTTP server in the test, which verifies the token against Gatehouse's JWKS as a client would."""

import logging
import queue
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import UserSession
from tests.factories import make_user
from tests.http.admin.conftest import post, signed_in
from tests.http.applications.oidc import make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

EVENT = "http://schemas.openid.net/event/backchannel-logout"
WAIT = 10  # seconds a test waits for a delivery before it fails


class LogoutReceiver:
    """A relying party's back-channel endpoint: verifies each logout token with the JWKS and
    keeps what it found. `answer` is the status it replies with; `hold` keeps each reply
    until released."""

    def __init__(self, jwks_url: str, issuer: str, client_id: str | None = None):
        self.jwks_url, self.issuer, self.client_id = jwks_url, issuer, client_id
        self.received: queue.Queue = queue.Queue()
        self.answer = 200
        self.hold = threading.Event()
        self.hold.set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                receiver.received.put(receiver.verify(parse_qs(body)))
                receiver.hold.wait(WAIT)
                self.send_response(receiver.answer)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/backchannel-logout"

    def verify(self, form: dict):
        """What a client must check (Back-Channel Logout 1.0, 2.6), or the error."""
        try:
            (logout_token,) = form["logout_token"]
            key_set = KeySet.import_key_set(httpx.get(self.jwks_url).json())
            token = jwt.decode(logout_token, key_set, algorithms=["ES256", "RS256"])
            JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                aud={"essential": True, "value": self.client_id},
                iat={"essential": True},
                exp={"essential": True},
                jti={"essential": True},
            ).validate(token.claims)
        except (KeyError, ValueError, JoseError) as error:
            return error
        assert token.claims["events"] == {EVENT: {}}
        assert "nonce" not in token.claims
        assert "sub" in token.claims or "sid" in token.claims
        return token

    def next_token(self):
        found = self.received.get(timeout=WAIT)
        assert not isinstance(found, Exception), found
        return found

    def assert_nothing_received(self):
        with pytest.raises(queue.Empty):
            self.received.get(timeout=1)

    def close(self):
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers(live_server):
    made = []

    def make(slug="rp"):
        receiver = LogoutReceiver(
            live_server(f"/application/o/{slug}/jwks/"), live_server(f"/application/o/{slug}/")
        )
        made.append(receiver)
        return receiver

    yield make
    for receiver in made:
        receiver.close()


def client_with_receiver(app, receiver, slug="rp", **options):
    client_id, secret = make_client(app, slug=slug, backchannel_logout_uri=receiver.uri, **options)
    receiver.client_id = client_id
    return client_id, secret


def sign_in_to(app, live_server, visitor, client_id, secret) -> dict:
    """Sign in to the application through Gatehouse; the verified ID token's claims."""
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    key_set = KeySet.import_key_set(httpx.get(live_server("/application/o/rp/jwks/")).json())
    return jwt.decode(token["id_token"], key_set, algorithms=["ES256", "RS256"]).claims


def sign_out(visitor):
    kind, page = visitor.follow("/logout")
    if kind == "page" and "csrf_token" in page.text:
        kind, page = visitor.post_form(page, {})
    assert visitor.http.get("/me").status_code in (302, 303)
    return kind, page


def test_signing_out_posts_a_logout_token_naming_the_user_and_the_session(
    app, live_server, visitor, alice, receivers
):
    receiver = receivers()
    client_id, secret = client_with_receiver(
        app, receiver, backchannel_logout_session_required=True
    )
    document = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration"))
    assert document.json()["backchannel_logout_supported"] is True
    assert document.json()["backchannel_logout_session_supported"] is True
    id_token = sign_in_to(app, live_server, visitor, client_id, secret)
    assert id_token["sid"]

    sign_out(visitor)
    logout = receiver.next_token()
    assert logout.header["typ"] == "logout+jwt"
    assert logout.claims["sub"] == id_token["sub"]
    assert logout.claims["sid"] == id_token["sid"]
    assert logout.claims["aud"] == client_id


def test_the_logout_token_names_the_session_even_when_the_client_did_not_ask(
    app, live_server, visitor, alice, receivers
):
    """Without `sid` a logout token means every session of the user at the client, and a
    client that keeps its sessions by the ID token's sid (mod_auth_openidc) ends none."""
    receiver = receivers()
    client_id, secret = client_with_receiver(app, receiver)
    id_token = sign_in_to(app, live_server, visitor, client_id, secret)
    sign_out(visitor)
    logout = receiver.next_token()
    assert logout.claims["sub"] == id_token["sub"]
    assert logout.claims["sid"] == id_token["sid"]


def test_only_applications_signed_in_to_in_that_session_are_told(
    app, live_server, visitor, alice, receivers
):
    used, unused = receivers("rp"), receivers("other")
    client_id, secret = client_with_receiver(app, used)
    client_with_receiver(app, unused, slug="other")
    sign_in_to(app, live_server, visitor, client_id, secret)
    sign_out(visitor)
    used.next_token()
    unused.assert_nothing_received()


def test_rp_initiated_logout_tells_the_application(app, live_server, visitor, alice, receivers):
    receiver = receivers()
    client_id, secret = client_with_receiver(app, receiver)
    sign_in_to(app, live_server, visitor, client_id, secret)
    kind, page = visitor.follow("/application/o/rp/end-session/")
    if kind == "page" and "csrf_token" in page.text:
        visitor.post_form(page, {})
    assert visitor.http.get("/me").status_code in (302, 303)
    assert receiver.next_token().claims["aud"] == client_id


def test_an_administrator_ending_the_session_tells_the_application(
    app, live_server, visitor, alice, receivers
):
    receiver = receivers()
    client_id, secret = client_with_receiver(app, receiver)
    id_token = sign_in_to(app, live_server, visitor, client_id, secret)
    with app.app_context():
        make_user("root", superuser=True)
        session_id = db.session.scalar(
            select(UserSession.id).where(
                UserSession.user_id == int(id_token["sub"]), UserSession.revoked_at.is_(None)
            )
        )
    admin = signed_in(app, "root")
    answer = post(admin, f"/admin/users/{id_token['sub']}/sessions/{session_id}/revoke")
    assert answer.status_code == 303
    assert receiver.next_token().claims["sub"] == id_token["sub"]
    assert visitor.http.get("/me").status_code in (302, 303)


def test_disabling_the_account_tells_the_application(app, live_server, visitor, alice, receivers):
    receiver = receivers()
    client_id, secret = client_with_receiver(app, receiver)
    id_token = sign_in_to(app, live_server, visitor, client_id, secret)
    with app.app_context():
        make_user("root", superuser=True)
    answer = post(signed_in(app, "root"), f"/admin/users/{id_token['sub']}/disable")
    assert answer.status_code == 303
    assert receiver.next_token().claims["sub"] == id_token["sub"]


def test_the_sign_out_answers_before_the_client_does(
    app, live_server, visitor, alice, receivers, caplog
):
    """The client holds its reply until the user's sign-out has been answered. Were the
    token posted before the answer, the post would run into its timeout; posted after it,
    it is delivered."""
    caplog.set_level(logging.INFO, logger="idp.oauth2")
    receiver = receivers()
    receiver.hold.clear()
    client_id, secret = client_with_receiver(app, receiver)
    sign_in_to(app, live_server, visitor, client_id, secret)
    sign_out(visitor)
    receiver.next_token()
    receiver.hold.set()
    assert wait_for_log(caplog, "back-channel logout delivered")
    assert "back-channel logout not delivered" not in caplog.text


@pytest.mark.parametrize("broken", ["refuses", "is down"])
def test_a_failing_client_is_logged_and_the_user_is_signed_out(
    app, live_server, visitor, alice, receivers, caplog, broken
):
    caplog.set_level(logging.INFO, logger="idp.oauth2")
    receiver = receivers()
    receiver.answer = 500
    client_id, secret = client_with_receiver(app, receiver)
    sign_in_to(app, live_server, visitor, client_id, secret)
    if broken == "is down":
        receiver.close()
    sign_out(visitor)
    expected = "back-channel logout refused" if broken == "refuses" else "not delivered"
    assert wait_for_log(caplog, expected)
    assert visitor.http.get("/me").status_code in (302, 303)


def wait_for_log(caplog, words: str) -> bool:
    done = threading.Event()
    for _ in range(WAIT * 20):
        if words in caplog.text:
            return True
        done.wait(0.05)
    return False
