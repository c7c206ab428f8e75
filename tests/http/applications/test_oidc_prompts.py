"""prompt=none answers without a page (OpenID Connect Core 3.1.2.1 and 3.1.2.6), and max_age
against the movable clock, with auth_time in the ID token."""

import html
import re
import secrets
from datetime import timedelta
from urllib.parse import urljoin

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.applications.manage import create_application
from idp.core.extensions import db
from idp.models import Consent, Event, Stage
from idp.models.types import utcnow
from tests.factories import make_flow, make_group, make_user
from tests.http.applications.oidc import (
    CSRF,
    FORM,
    REDIRECT_URI,
    Browser,
    bind_group,
    make_client,
    next_hop,
    query_of,
)
from tests.http.applications.test_oidc_rules import authorize_url, exchange, get_code

CONSENT_STAGE = "default-provider-authorization-consent"


def silently(visitor, client_id, **extra):
    """An authorization with prompt=none: it must come straight back to the client."""
    kind, result = visitor.follow(
        authorize_url(client_id, secrets.token_urlsafe(48), prompt="none", **extra)
    )
    assert kind == "redirect", result.text[:500]
    return query_of(result)


def test_after_consent_prompt_none_answers_with_a_code(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    answer = silently(visitor, client_id)
    assert "code" in answer and answer["state"] == "s1"
    assert answer["iss"].endswith("/application/o/rp/")


def test_prompt_none_asking_for_more_than_was_agreed_needs_consent(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48), scope="openid")
    assert silently(visitor, client_id, scope="openid email")["error"] == "consent_required"


def test_prompt_none_with_a_consent_stage_that_always_asks_needs_consent(app, visitor, alice):
    client_id, _secret = make_client(app)
    with app.app_context():
        stage = db.session.scalar(select(Stage).where(Stage.name == CONSENT_STAGE))
        stage.options = {**stage.options, "mode": "always"}
        db.session.commit()
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    assert silently(visitor, client_id)["error"] == "consent_required"


def test_prompt_none_for_a_refused_user_answers_access_denied_without_a_page(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    with app.app_context():
        make_group("staff")
    bind_group(app, "rp", "staff")
    answer = silently(visitor, client_id)
    assert answer["error"] == "access_denied" and answer["state"] == "s1"
    assert "code" not in answer


def test_prompt_none_with_another_value_is_an_invalid_request(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    kind, result = visitor.follow(
        authorize_url(client_id, secrets.token_urlsafe(48), prompt="none login")
    )
    assert kind == "redirect" and query_of(result)["error"] == "invalid_request"


def id_token_claims(app, live_server, client_id, secret, code, verifier) -> dict:
    token = exchange(live_server, client_id, secret, code, verifier)
    assert token.status_code == 200, token.text
    key_set = KeySet.import_key_set(httpx.get(live_server("/application/o/rp/jwks/")).json())
    return jwt.decode(token.json()["id_token"], key_set, algorithms=["ES256"]).claims


def test_max_age_against_the_clock_and_auth_time_in_the_id_token(
    app, live_server, visitor, alice, time_machine
):
    client_id, secret = make_client(app)
    time_machine.move_to(utcnow(), tick=False)
    signed_in_at = int(utcnow().timestamp())
    verifier = secrets.token_urlsafe(48)
    first = get_code(visitor, client_id, verifier)
    claims = id_token_claims(app, live_server, client_id, secret, first["code"], verifier)
    assert abs(claims["auth_time"] - signed_in_at) <= 1

    time_machine.move_to(utcnow() + timedelta(minutes=5), tick=False)
    # Within max_age: the sign-in still counts, and auth_time is still the sign-in's.
    verifier = secrets.token_urlsafe(48)
    recent = get_code(visitor, client_id, verifier, max_age="600")
    claims = id_token_claims(app, live_server, client_id, secret, recent["code"], verifier)
    assert abs(claims["auth_time"] - signed_in_at) <= 1
    # Older than max_age: prompt=none cannot sign in again, so login_required.
    assert silently(visitor, client_id, max_age="60")["error"] == "login_required"
    # Without prompt=none: a fresh sign-in, and auth_time moves with it.
    verifier = secrets.token_urlsafe(48)
    fresh = get_code(visitor, client_id, verifier, max_age="60")
    claims = id_token_claims(app, live_server, client_id, secret, fresh["code"], verifier)
    assert claims["auth_time"] >= signed_in_at + 300


def test_prompt_login_with_consent_still_asks_for_consent_after_signing_in(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    seen = len(visitor.pages)
    url = authorize_url(client_id, secrets.token_urlsafe(48), prompt="login consent")
    kind, page = visitor.authorize(url, "alice", consent=False)
    assert any('name="password"' in earlier.text for earlier in visitor.pages[seen:])
    assert kind == "page" and "will receive" in page.text
    kind, result = visitor.post_form(page, {})
    assert kind == "redirect" and "code" in query_of(result)


@pytest.mark.parametrize(
    "parameter, values",
    [("nonce", ("a", "b")), ("prompt", ("login", "none")), ("max_age", ("99999", "0"))],
)
def test_an_openid_parameter_given_twice_is_an_invalid_request(
    app, visitor, alice, parameter, values
):
    """RFC 6749 3.1: Gatehouse would read the first value, the client may trust the last."""
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    url = authorize_url(client_id, secrets.token_urlsafe(48))
    kind, result = visitor.follow(url + "".join(f"&{parameter}={value}" for value in values))
    assert kind == "redirect"
    answer = query_of(result)
    assert answer["error"] == "invalid_request" and parameter in answer["error_description"]
    assert answer["state"] == "s1" and "code" not in answer


def test_declining_at_consent_tells_the_client_access_denied(app, visitor, alice):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48))
    kind, page = visitor.authorize(url, "alice", consent=False)
    assert kind == "page" and "will receive" in page.text and "Deny" in page.text
    actions = [html.unescape(action) for action in FORM.findall(page.text)]
    assert len(actions) == 2  # allow, then deny
    answer = visitor.http.post(
        urljoin(str(page.url), actions[1]),
        data={"csrf_token": CSRF.search(page.text).group(1), "decision": "decline"},
    )
    kind, result = visitor.follow(next_hop(answer))
    assert kind == "redirect", result.text[:500]
    answer = query_of(result)
    assert answer["error"] == "access_denied" and answer["state"] == "s1"
    assert answer["iss"].endswith("/application/o/rp/") and "code" not in answer
    with app.app_context():
        assert db.session.scalar(select(Consent)) is None  # nothing remembered
        assert db.session.scalar(select(Event).where(Event.action == "consent_declined"))
    # Asked again, the user may still agree.
    assert "code" in get_code(visitor, client_id, secrets.token_urlsafe(48))


def test_login_hint_fills_in_the_name_on_the_sign_in_page(app, visitor, alice):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), login_hint="alice")
    kind, page = visitor.follow(url)
    assert kind == "page" and 'name="uid_field"' in page.text
    field = re.search(r'<input[^>]*name="uid_field"[^>]*>', page.text).group(0)
    assert 'value="alice"' in field
    # The hint is only a hint: signing in goes on as usual, back to the client with a code.
    kind, result = visitor.authorize(url, "alice")
    assert kind == "redirect" and "code" in query_of(result)


@pytest.mark.parametrize("parameter", ["request", "request_uri"])
def test_request_objects_are_refused_as_not_supported(app, visitor, alice, parameter):
    client_id, _secret = make_client(app)
    value = "eyJhbGciOiJub25lIn0.e30." if parameter == "request" else "https://rp.example.test/r"
    kind, result = visitor.follow(
        authorize_url(client_id, secrets.token_urlsafe(48), **{parameter: value})
    )
    assert kind == "redirect"
    answer = query_of(result)
    assert answer["error"] == f"{parameter}_not_supported" and answer["state"] == "s1"


def test_prompt_none_with_an_authorization_flow_that_asks_more_than_consent(app, visitor, alice):
    with app.app_context():
        slug = make_flow(
            [{"define": {"name": "a-question", "type": "prompt",
                         "options": {"fields": [{"key": "color", "label": "Colour",
                                                 "type": "text", "required": True}]}}}],
            designation="authorization", authentication="require_authenticated",
        )  # fmt: skip
        created = create_application(
            "quiz", "Quiz", "oauth2", {"redirect_uris": [REDIRECT_URI]},
            authorization_flow_slug=slug,
        )  # fmt: skip
        db.session.commit()
        quiz_id = created.facts["client_id"]
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))  # signed in, through the rp
    assert silently(visitor, quiz_id)["error"] == "interaction_required"


def test_the_authorization_request_may_come_by_post(app, visitor, alice):
    """OpenID Connect Core 3.1.2.1: GET and POST. The POST becomes the same GET."""
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))  # signed in, consent given
    url = authorize_url(client_id, secrets.token_urlsafe(48))
    posted = visitor.http.post("/application/o/authorize/", data=query_of(url))
    assert posted.status_code == 303
    kind, result = visitor.follow(next_hop(posted))
    assert kind == "redirect" and "code" in query_of(result)
    assert visitor.http.post("/application/o/authorize/", data={}).status_code == 400


@pytest.mark.parametrize("max_age", ["-1", "soon", "1.5", "", "٣"])
def test_a_max_age_that_is_not_a_number_of_seconds_is_an_invalid_request(
    app, visitor, alice, max_age
):
    client_id, _secret = make_client(app)
    kind, result = visitor.follow(
        authorize_url(client_id, secrets.token_urlsafe(48), max_age=max_age)
    )
    assert kind == "redirect" and query_of(result)["error"] == "invalid_request"


def test_a_huge_max_age_is_never(app, visitor, alice):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))
    assert "code" in silently(visitor, client_id, max_age="9" * 40)


def id_tokens_of_alice_and_bob(app, live_server, visitor, client_id, secret) -> tuple[str, str]:
    """An ID token of alice (signed in with `visitor`) and one of bob, from another browser."""
    with app.app_context():
        make_user("bob")

    def id_token_of(browser, username):
        verifier = secrets.token_urlsafe(48)
        code = get_code(browser, client_id, verifier, username=username)["code"]
        return exchange(live_server, client_id, secret, code, verifier).json()["id_token"]

    alices = id_token_of(visitor, "alice")
    other = Browser(live_server.url)
    try:
        return alices, id_token_of(other, "bob")
    finally:
        other.close()


def test_prompt_none_answers_only_for_the_user_the_id_token_hint_names(
    app, live_server, visitor, alice
):
    client_id, secret = make_client(app)
    alices, bobs = id_tokens_of_alice_and_bob(app, live_server, visitor, client_id, secret)
    assert "code" in silently(visitor, client_id, id_token_hint=alices)
    assert silently(visitor, client_id, id_token_hint=bobs)["error"] == "login_required"
    assert silently(visitor, client_id, id_token_hint="not.a.token")["error"] == "login_required"


def test_a_hint_naming_another_user_is_never_answered_for_the_signed_in_one(
    app, live_server, visitor, alice
):
    """OpenID Connect Core 3.1.2.1: with an id_token_hint, a positive answer only when the user
    it names is the one signed in, also without prompt=none; otherwise login_required."""
    client_id, secret = make_client(app)
    alices, bobs = id_tokens_of_alice_and_bob(app, live_server, visitor, client_id, secret)

    def answer(hint):
        url = authorize_url(client_id, secrets.token_urlsafe(48), id_token_hint=hint)
        kind, result = visitor.follow(url)
        assert kind == "redirect"
        return query_of(result)

    refused = answer(bobs)
    assert refused["error"] == "login_required" and refused["state"] == "s1"
    assert "code" not in refused
    assert "code" in answer(alices)
    assert "code" in answer("not.a.token")  # names nobody: left aside outside prompt=none
