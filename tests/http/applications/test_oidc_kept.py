"""The OpenID Connect applications and the current signing keys are kept in the worker under
the flows revision (idp/providers/oauth2/clients.py, keys.py): an edit made by the CLI, the
admin or another node (here another session, or bulk SQL) is seen by the next request, and a
kept answer reads neither the application nor its keys."""

import secrets

import httpx
from joserfc import jws
from sqlalchemy import delete, select, update

from idp.core.extensions import db
from idp.models import PolicyBinding, Provider, SigningKey
from tests.factories import make_group
from tests.http.applications.oidc import REDIRECT_URI, bind_group, make_client, query_of
from tests.http.applications.test_oidc_rules import authorize_url, exchange, get_code

MOVED_URI = "https://moved.example.test/callback"


def signed_in_round_trip(visitor, live_server, client_id, secret, redirect_uri=REDIRECT_URI):
    """A code for the signed-in visitor, exchanged by the app (no cookie): the token answer."""
    verifier = secrets.token_urlsafe(48)
    url = authorize_url(client_id, verifier, redirect_uri=redirect_uri)
    kind, location = visitor.authorize(url, "alice", stop_at=redirect_uri)
    assert kind == "redirect", location.text[:500]
    code = query_of(location)["code"]
    return exchange(
        live_server, client_id, secret, code, verifier, redirect_uri=redirect_uri
    )  # fmt: skip


def kid_of(id_token: str) -> str:
    return jws.extract_compact(id_token.encode()).protected["kid"]


def test_the_kept_applications_follow_every_edit_made_elsewhere(
    app, live_server, visitor, alice, runner
):
    client_id, secret = make_client(app)
    assert signed_in_round_trip(visitor, live_server, client_id, secret).status_code == 200
    assert signed_in_round_trip(visitor, live_server, client_id, secret).status_code == 200

    with app.app_context():  # a bulk delete, as SQL from elsewhere, then a binding by the CLI
        make_group("others")
        db.session.execute(delete(PolicyBinding))
        db.session.commit()
    assert runner.invoke(args=["apps", "bind", "rp", "--group", "others"]).exit_code == 0
    kind, page = visitor.follow(authorize_url(client_id, secrets.token_urlsafe(48)))
    assert kind == "page" and page.status_code == 403, page.text[:300]

    with app.app_context():  # another session moves the redirect URI
        db.session.execute(delete(PolicyBinding))
        provider = db.session.scalar(select(Provider))
        provider.options = {**provider.options, "redirect_uris": [MOVED_URI]}
        db.session.commit()
    kind, page = visitor.follow(authorize_url(client_id, secrets.token_urlsafe(48)))
    assert kind == "page" and page.status_code == 400, page.text[:300]
    moved = signed_in_round_trip(visitor, live_server, client_id, secret, MOVED_URI)
    assert moved.status_code == 200, moved.text

    with app.app_context():  # a bulk update: the secret is no longer the one the app holds
        db.session.execute(update(Provider).values(client_secret_hash="not a hash of anything"))
        db.session.commit()
    refused = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"

    access_token = moved.json()["access_token"]
    userinfo = live_server("/application/o/userinfo/")
    bearer = {"Authorization": f"Bearer {access_token}"}
    assert httpx.get(userinfo, headers=bearer).status_code == 200
    assert runner.invoke(args=["apps", "delete", "rp"]).exit_code == 0
    assert httpx.get(userinfo, headers=bearer).status_code == 401
    discovery = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration"))
    assert discovery.status_code == 404


def test_a_rotation_elsewhere_signs_the_next_token_with_the_new_key(
    app, live_server, visitor, alice, runner
):
    client_id, secret = make_client(app)
    first = signed_in_round_trip(visitor, live_server, client_id, secret).json()["id_token"]
    again = signed_in_round_trip(visitor, live_server, client_id, secret).json()["id_token"]
    assert kid_of(first) == kid_of(again)
    assert runner.invoke(args=["keys", "rotate", "--algorithm", "ES256"]).exit_code == 0
    with app.app_context():
        current = db.session.scalar(
            select(SigningKey.kid).where(
                SigningKey.algorithm == "ES256",
                SigningKey.signs_from.is_not(None),
                SigningKey.retired_at.is_(None),
            )
        )
    rotated = signed_in_round_trip(visitor, live_server, client_id, secret).json()["id_token"]
    assert kid_of(rotated) == current != kid_of(first)


def test_a_kept_token_answer_reads_no_application_binding_or_key(
    app, live_server, visitor, alice, query_counter
):
    client_id, secret = make_client(app)
    bind_a_group_alice_is_in(app)
    signed_in_round_trip(visitor, live_server, client_id, secret)  # kept now
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier)["code"]
    answer = {}
    query_counter.count(
        lambda: answer.update(
            response=exchange(live_server, client_id, secret, code, verifier)
        )
    )  # fmt: skip
    assert answer["response"].status_code == 200
    read = " ".join(query_counter.statements).lower()
    for table in ("applications", "providers", "policy_bindings", "oauth2_signing_keys", "flows"):
        assert f"from {table} " not in read and f"from {table}\n" not in read, table
    assert "from flows_revision" in read  # the app sends no cookie: it reads the revision


def bind_a_group_alice_is_in(app):
    """A binding the user passes: the answer still reads no binding."""
    from idp.identity.accounts import find_group, find_user
    from idp.models import group_members

    with app.app_context():
        make_group("staff")
        db.session.execute(
            group_members.insert().values(
                user_id=find_user("alice").id, group_id=find_group("staff").id
            )
        )
        db.session.commit()
    bind_group(app, "rp", "staff")


def test_the_authorization_endpoint_of_a_signed_in_user_reads_no_application_or_flow(
    app, visitor, alice, query_counter
):
    client_id, _secret = make_client(app)
    get_code(visitor, client_id, secrets.token_urlsafe(48))  # signed in, consented, kept
    url = authorize_url(client_id, secrets.token_urlsafe(48))
    kinds = []
    query_counter.count(lambda: kinds.append(visitor.follow(url)))
    kind, location = kinds[0]
    assert kind == "redirect" and "code" in query_of(location)
    read = " ".join(query_counter.statements).lower()
    for table in ("applications", "providers", "policy_bindings", "flows", "stage_bindings"):
        assert f"from {table} " not in read, table
