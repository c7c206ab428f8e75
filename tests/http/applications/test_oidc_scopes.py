"""Admin-defined scopes (scope mappings) end to end with authlib's client: offered in
discovery, described on the consent page, their claims in the ID token and userinfo; an
expression that fails gives no claim, an event and never a 500."""

import secrets

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event, ScopeMapping
from tests.factories import make_group, make_user
from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

QUOTA = '{"quota": user.attributes.get("quota", "1 GB"), "teams": user.groups}'


@pytest.fixture
def alice(app):
    with app.app_context():
        user = make_user("alice", groups=[make_group("staff")])
        user.attributes = {"quota": "5 GB", "secret": "do-not-leak"}
        db.session.commit()
        return user.username


def add_mapping(app, name, expression, description=""):
    with app.app_context():
        db.session.add(ScopeMapping(name=name, expression=expression, description=description))
        db.session.commit()


def sign_in(live_server, visitor, client_id, secret, scope):
    document = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration")).json()
    oauth = OAuth2Client(
        client_id, secret, scope=scope, redirect_uri=REDIRECT_URI, code_challenge_method="S256"
    )
    verifier = secrets.token_urlsafe(48)
    url, _state = oauth.create_authorization_url(
        document["authorization_endpoint"], code_verifier=verifier, nonce="n-1"
    )
    kind, redirect = visitor.authorize(url, "alice")
    assert kind == "redirect", redirect.text[:1500]
    token = oauth.fetch_token(
        document["token_endpoint"], authorization_response=redirect, code_verifier=verifier
    )
    key_set = KeySet.import_key_set(httpx.get(document["jwks_uri"]).json())
    claims = jwt.decode(token["id_token"], key_set, algorithms=["ES256"]).claims
    userinfo = httpx.get(
        document["userinfo_endpoint"], headers={"Authorization": f"Bearer {token['access_token']}"}
    )
    assert userinfo.status_code == 200, userinfo.text
    return document, token, claims, userinfo.json()


def test_an_offered_scope_mapping_is_described_and_gives_its_claims(
    app, live_server, visitor, alice
):
    add_mapping(app, "nextcloud", QUOTA, "Your storage quota and teams")
    client_id, secret = make_client(app, scope_mappings=["nextcloud"])
    document, token, claims, userinfo = sign_in(
        live_server, visitor, client_id, secret, "openid nextcloud"
    )
    assert "nextcloud" in document["scopes_supported"]
    consent = next(page for page in visitor.pages if "will receive" in page.text)
    assert "Your storage quota and teams" in consent.text
    assert token["scope"] == "openid nextcloud"
    for found in (claims, userinfo):
        assert found["quota"] == "5 GB" and found["teams"] == ["staff"]
        assert "preferred_username" not in found  # profile was not asked for


def test_a_scope_mapping_the_application_does_not_offer_is_not_granted(
    app, live_server, visitor, alice
):
    add_mapping(app, "nextcloud", QUOTA)
    client_id, secret = make_client(app)
    document, token, claims, userinfo = sign_in(
        live_server, visitor, client_id, secret, "openid nextcloud"
    )
    assert "nextcloud" not in document["scopes_supported"]
    assert token["scope"] == "openid"
    assert "quota" not in claims and "quota" not in userinfo


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        ('{"boom": user.attributes.missing}', "PolicyError"),  # missing data, as below
        ("user.attributes.missing", "PolicyError"),
        ("1 / 0", "PolicyError"),
        ('"just text"', "NotJSON"),
        ('{"when": now()}', "NotJSON"),
        ("{1: 2}", "NotJSON"),
    ],
)
def test_a_failing_scope_mapping_gives_no_claim_and_an_event(
    app, live_server, visitor, alice, expression, kind
):
    add_mapping(app, "broken", expression)
    add_mapping(app, "works", '{"works": true}')
    client_id, secret = make_client(app, scope_mappings=["broken", "works"])
    _document, _token, claims, userinfo = sign_in(
        live_server, visitor, client_id, secret, "openid profile broken works"
    )
    for found in (claims, userinfo):
        assert found["works"] is True and found["preferred_username"] == "alice"
        assert not {"boom", "when"} & found.keys()
    with app.app_context():
        events = db.session.scalars(
            select(Event).where(Event.action == "oauth2_scope_mapping_failed")
        ).all()
    # Once for the ID token, once for userinfo; the events say which kind, nothing more.
    assert [event.detail["mapping"] for event in events] == ["broken", "broken"]
    assert {event.detail["error"] for event in events} == {kind}
    assert "do-not-leak" not in str([event.detail for event in events])


def test_a_scope_mapping_cannot_set_the_protocols_claims(app, live_server, visitor, alice):
    add_mapping(app, "sneaky", '{"sub": "admin", "iss": "https://evil.test/", "role": "x"}')
    client_id, secret = make_client(app, scope_mappings=["sneaky"])
    document, _token, claims, userinfo = sign_in(
        live_server, visitor, client_id, secret, "openid sneaky"
    )
    for found in (claims, userinfo):
        assert found["role"] == "x" and found["sub"] != "admin"
    assert claims["iss"] == document["issuer"]


def test_the_refresh_grant_gives_a_new_id_token_for_the_same_user_and_client(
    app, live_server, visitor, alice
):
    """OpenID Connect Core 12.2: same iss, sub, aud and auth_time, no nonce needed."""
    add_mapping(app, "nextcloud", QUOTA)
    client_id, secret = make_client(app, scope_mappings=["nextcloud"])
    document, token, first, _userinfo = sign_in(
        live_server, visitor, client_id, secret, "openid offline_access nextcloud"
    )
    oauth = OAuth2Client(client_id, secret)
    refreshed = oauth.refresh_token(document["token_endpoint"], token["refresh_token"])
    key_set = KeySet.import_key_set(httpx.get(document["jwks_uri"]).json())
    second = jwt.decode(refreshed["id_token"], key_set, algorithms=["ES256"]).claims
    for claim in ("iss", "sub", "aud", "auth_time", "sid", "quota"):
        assert second[claim] == first[claim], claim
    assert first["nonce"] == "n-1" and "nonce" not in second
    assert second["exp"] > second["iat"]
    again = oauth.refresh_token(document["token_endpoint"], refreshed["refresh_token"])
    third = jwt.decode(again["id_token"], key_set, algorithms=["ES256"]).claims
    assert third["sub"] == first["sub"]


def test_refresh_without_openid_gives_no_id_token(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier, scope="profile offline_access")
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    refreshed = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(client_id, secret),
    ).json()
    assert "access_token" in refreshed and "id_token" not in refreshed
