"""A second relying party nobody here wrote: panva's openid-client (certified, on node),
installed by `npm ci` in tests/rp. Discovery, sign-in without JavaScript, consent, the code
exchange with every check that library makes (iss, state, nonce, ID token against the JWKS),
userinfo and a refresh."""

import json
import os
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest

from tests.factories import make_group, make_user
from tests.http.applications.oidc import REDIRECT_URI, Browser, make_client
from tests.http.applications.test_oidc_response_modes import posted_form

RP = Path(__file__).resolve().parents[2] / "rp"


def node_rp(*args) -> dict:
    result = subprocess.run(
        ["node", str(RP / "rp.mjs"), *args], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def installed():
    if shutil.which("node") is None or not (RP / "node_modules" / "openid-client").is_dir():
        if os.environ.get("IDP_REQUIRE_SECOND_RP"):
            pytest.fail("node or tests/rp/node_modules is missing (run: npm ci --prefix tests/rp)")
        pytest.skip("node or tests/rp/node_modules is missing (run: npm ci --prefix tests/rp)")


def test_openid_client_signs_in_through_gatehouse(app, live_server, installed):
    with app.app_context():
        make_user("alice", groups=[make_group("staff")])
    client_id, secret = make_client(app)
    issuer = live_server("/application/o/rp/")
    start = node_rp("start", issuer, client_id, secret, REDIRECT_URI)
    visitor = Browser(live_server.url)
    try:
        kind, callback = visitor.authorize(start["url"], "alice")
    finally:
        visitor.close()
    assert kind == "redirect"
    done = node_rp(
        "finish", issuer, client_id, secret, callback,
        start["verifier"], start["state"], start["nonce"],
    )  # fmt: skip
    assert done["claims"]["iss"] == issuer
    assert done["claims"]["preferred_username"] == "alice"
    assert done["userinfo"]["groups"] == ["staff"]
    assert done["refreshed"] is True


def test_openid_client_takes_the_answer_by_form_post(app, live_server, installed):
    """The same library with response_mode=form_post: it reads the code from the POST the
    browser makes with Gatehouse's form, and checks iss and state there."""
    with app.app_context():
        make_user("alice", groups=[make_group("staff")])
    client_id, secret = make_client(app)
    issuer = live_server("/application/o/rp/")
    start = node_rp("start", issuer, client_id, secret, REDIRECT_URI, "form_post")
    visitor = Browser(live_server.url)
    try:
        kind, page = visitor.authorize(start["url"], "alice")
    finally:
        visitor.close()
    assert kind == "page" and page.status_code == 200
    action, fields = posted_form(page)
    assert action == REDIRECT_URI
    done = node_rp(
        "finish", issuer, client_id, secret, REDIRECT_URI,
        start["verifier"], start["state"], start["nonce"], urlencode(fields),
    )  # fmt: skip
    assert done["claims"]["preferred_username"] == "alice"
    assert done["refreshed"] is True
