"""Signing keys: sealed, one kid each, published before they sign, kept after they retire;
RS256 per application; sign-out through end-session; query counts that do not grow."""

import base64
import json
import secrets
from datetime import timedelta

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import SigningKey
from idp.models.types import utcnow
from tests.factories import make_group
from tests.http.applications.oidc import bind_group, make_client, query_of
from tests.http.applications.test_oidc_rules import authorize_url, exchange, get_code


def id_token_for(app, live_server, visitor, client_id, secret):
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    response = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()["id_token"]


def test_keys_are_sealed_and_rotation_publishes_before_signing(
    app, live_server, visitor, alice, runner
):
    client_id, secret = make_client(app)
    jwks_url = live_server("/application/o/rp/jwks/")
    cached = KeySet.import_key_set(httpx.get(jwks_url).json())  # a client that caches
    first = id_token_for(app, live_server, visitor, client_id, secret)
    assert jwt.decode(first, cached, algorithms=["ES256"]).claims["aud"] == [client_id]
    with app.app_context():
        rows = db.session.scalars(select(SigningKey)).all()
        assert len({row.kid for row in rows}) == len(rows) == 2  # current + next
        for row in rows:
            assert '"d"' not in row.sealed_private_key and "d" not in row.public_jwk
    result = runner.invoke(args=["keys", "rotate", "--algorithm", "ES256"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["keys", "list"]).output
    assert "retired" in listed and "current" in listed and "next" in listed
    second = id_token_for(app, live_server, visitor, client_id, secret)
    # The cached key set from before the rotation already holds the key that signs now.
    new_kid = jwt.decode(second, cached, algorithms=["ES256"]).header["kid"]
    assert new_kid != jwt.decode(first, cached, algorithms=["ES256"]).header["kid"]
    fresh = KeySet.import_key_set(httpx.get(jwks_url).json())
    jwt.decode(first, fresh, algorithms=["ES256"])  # the retired key is still published


def test_rs256_per_application(app, live_server, visitor, alice):
    client_id, secret = make_client(app, signing_algorithm="RS256")
    document = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration")).json()
    assert document["id_token_signing_alg_values_supported"] == ["RS256"]
    token = id_token_for(app, live_server, visitor, client_id, secret)
    key_set = KeySet.import_key_set(httpx.get(document["jwks_uri"]).json())
    assert jwt.decode(token, key_set, algorithms=["RS256"]).header["alg"] == "RS256"


def test_end_session_signs_out_and_returns_only_to_registered_uris(
    app, live_server, visitor, alice
):
    client_id, secret = make_client(app, post_logout_redirect_uris=["https://rp.example.test/bye"])
    token = id_token_for(app, live_server, visitor, client_id, secret)
    end = "/application/o/rp/end-session/"
    evil = visitor.http.get(f"{end}?post_logout_redirect_uri=https://evil.example.test/")
    assert evil.status_code == 400 and "location" not in evil.headers
    url = (
        f"{end}?id_token_hint={token}&post_logout_redirect_uri=https://rp.example.test/bye&state=z"
    )
    kind, result = visitor.follow(url, stop_at="https://rp.example.test/bye")
    if kind == "page":  # the sign-out flow asks for a click when another site sent us
        kind, result = visitor.post_form(result, {}, stop_at="https://rp.example.test/bye")
    assert kind == "redirect" and query_of(result)["state"] == "z"
    assert visitor.http.get("/me").status_code in (302, 303)


def test_authorization_and_token_queries_do_not_grow_with_bindings_or_apps(
    app, live_server, visitor, alice, query_counter
):
    client_id, secret = make_client(app)

    def round_trip():
        verifier = secrets.token_urlsafe(48)
        kind, result = visitor.follow(authorize_url(client_id, verifier))
        assert kind == "redirect", result.text[:500]
        code = query_of(result)["code"]
        counts = {"authorize": 0, "token": 0}
        counts["authorize"] = query_counter.count(
            lambda: visitor.follow(authorize_url(client_id, verifier))
        )
        counts["token"] = query_counter.count(
            lambda: exchange(live_server, client_id, secret, code, verifier)
        )
        return counts

    with app.app_context():
        from idp.identity.accounts import find_group, find_user
        from idp.models import group_members

        for number in range(6):
            make_group(f"team{number}")
        db.session.execute(
            group_members.insert().values(
                user_id=find_user("alice").id, group_id=find_group("team0").id
            )
        )
        db.session.commit()
    bind_group(app, "rp", "team0")
    get_code(visitor, client_id, secrets.token_urlsafe(48))  # sign in and consent once
    round_trip()  # keys are made on first use
    before = round_trip()
    for number in range(1, 6):
        bind_group(app, "rp", f"team{number}")
        make_client(app, slug=f"other{number}")
    round_trip()  # the first after an edit loads again what the worker keeps
    after = round_trip()
    assert after == before, (before, after)


def test_a_hint_signed_by_a_key_no_longer_published_is_set_aside_at_sign_out(
    app, live_server, visitor, alice, runner, time_machine
):
    client_id, secret = make_client(app, post_logout_redirect_uris=["https://rp.example.test/bye"])
    old_hint = id_token_for(app, live_server, visitor, client_id, secret)
    assert runner.invoke(args=["keys", "rotate", "--algorithm", "ES256"]).exit_code == 0
    time_machine.move_to(utcnow() + timedelta(hours=25))  # the old key is no longer published
    end = "/application/o/rp/end-session/"
    back = "post_logout_redirect_uri=https://rp.example.test/bye"
    answer = visitor.http.get(f"{end}?id_token_hint={old_hint}&{back}")
    assert answer.status_code == 302, answer.text[:300]
    assert answer.headers["location"].startswith("/flow/")
    # A hint naming a key Gatehouse never made is still refused.
    _header, claims, signature = old_hint.split(".")
    forged_header = (
        base64.urlsafe_b64encode(json.dumps({"alg": "ES256", "kid": "someone-elses"}).encode())
        .rstrip(b"=")
        .decode()
    )
    forged = f"{forged_header}.{claims}.{signature}"
    assert visitor.http.get(f"{end}?id_token_hint={forged}&{back}").status_code == 400


def test_rotating_all_keys_makes_none_for_an_algorithm_no_application_uses(app, runner):
    make_client(app)  # ES256

    result = runner.invoke(args=["keys", "rotate"])

    assert result.exit_code == 0, result.output
    assert "RS256: no keys, as no application signs with it; none made" in result.output
    with app.app_context():
        algorithms = db.session.scalars(select(SigningKey.algorithm)).all()
    assert set(algorithms) == {"ES256"}
    asked = runner.invoke(args=["keys", "rotate", "--algorithm", "RS256"])
    assert asked.exit_code == 0, asked.output
    with app.app_context():
        made = db.session.scalars(select(SigningKey).where(SigningKey.algorithm == "RS256")).all()
    # Its first two keys, current and next: none that never signed is retired already.
    assert len(made) == 2 and all(key.retired_at is None for key in made)
