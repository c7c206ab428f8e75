"""A single-page app (a public client) in a real browser, on an origin of its own: it calls
the token, userinfo and revocation endpoints with fetch, as oidc-client-ts does. userinfo
with `Authorization: Bearer` is not a simple request, so Chromium asks first (a CORS
preflight, OPTIONS) and reads the answer only when the preflight allows it."""

import secrets

import pytest

from tests.http.applications.oidc import REDIRECT_URI, Browser, make_client
from tests.http.applications.test_oidc_rules import get_code
from tests.stub_server import StubHandler, serving

pytestmark = pytest.mark.usefixtures("instance_is_set_up")

CALLS = """async ([base, clientId, code, verifier, redirectUri]) => {
  const form = (fields) => ({
    method: 'POST',
    headers: {'Content-Type': 'application/x-www-form-urlencoded'},
    body: new URLSearchParams(fields),
  });
  const answers = {};
  const token = await fetch(base + '/application/o/token/', form({
    grant_type: 'authorization_code', code, code_verifier: verifier,
    redirect_uri: redirectUri, client_id: clientId,
  }));
  const tokens = await token.json();
  answers.token = token.status;
  try {
    const userinfo = await fetch(base + '/application/o/userinfo/', {
      headers: {Authorization: 'Bearer ' + tokens.access_token},
    });
    answers.userinfo = [userinfo.status, (await userinfo.json()).preferred_username];
  } catch (error) {
    answers.userinfo = String(error);
  }
  const revoked = await fetch(base + '/application/o/revoke/', form({
    token: tokens.refresh_token, token_type_hint: 'refresh_token', client_id: clientId,
  }));
  answers.revoke = revoked.status;
  return answers;
}"""


class SinglePageApp(StubHandler):
    def do_GET(self):
        self.answer(
            '<!doctype html><html lang="en"><title>SPA</title><main><h1>The app</h1></main></html>'
        )


def test_a_single_page_app_reads_the_token_userinfo_and_revocation_answers(
    app, live_server, page_with_js, make_user
):
    username = make_user()
    client_id, _secret = make_client(app, public=True)
    verifier = secrets.token_urlsafe(48)
    signing_in = Browser(live_server.url)
    code = get_code(signing_in, client_id, verifier, username=username)["code"]
    signing_in.close()
    with serving(SinglePageApp) as server:
        page_with_js.goto(f"http://127.0.0.1:{server.server_port}/")
        answers = page_with_js.evaluate(
            CALLS, [live_server.url, client_id, code, verifier, REDIRECT_URI]
        )
    assert answers == {"token": 200, "userinfo": [200, username], "revoke": 200}
