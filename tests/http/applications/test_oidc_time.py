"""RP-initiated sign-out as time passes, with the clock moved (time-machine): an ID token hint
is usually old, and one past its exp still names the user and the application; a user
whose session already ended is sent back to the application all the same."""

import base64
import json
from datetime import timedelta

import pytest

from idp.models.types import utcnow
from tests.http.applications.oidc import make_client, query_of
from tests.http.applications.test_oidc_keys import id_token_for

BYE = "https://rp.example.test/bye"
END = "/application/o/rp/end-session/"
IDLE = timedelta(minutes=30)  # IDP_SESSION_IDLE_TIMEOUT's default


def expires_at(id_token: str) -> int:
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["exp"]


def sign_out_with(visitor, hint):
    kind, result = visitor.follow(
        f"{END}?id_token_hint={hint}&post_logout_redirect_uri={BYE}&state=z", stop_at=BYE
    )
    if kind == "page":  # the sign-out flow asks for a click when another site sent us
        kind, result = visitor.post_form(result, {}, stop_at=BYE)
    return kind, result


@pytest.mark.parametrize("later", [timedelta(minutes=20), IDLE + timedelta(minutes=1)])
def test_an_expired_id_token_hint_still_signs_out_and_returns_to_the_application(
    app, live_server, visitor, alice, time_machine, later
):
    client_id, secret = make_client(app, post_logout_redirect_uris=[BYE])
    time_machine.move_to(utcnow(), tick=False)
    hint = id_token_for(app, live_server, visitor, client_id, secret)
    time_machine.move_to(utcnow() + later, tick=False)
    assert expires_at(hint) < utcnow().timestamp()

    kind, result = sign_out_with(visitor, hint)

    assert kind == "redirect" and query_of(result)["state"] == "z"
    assert visitor.http.get("/me").status_code in (302, 303)
