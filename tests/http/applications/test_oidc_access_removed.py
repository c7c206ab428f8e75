"""Removing a user's access to an application (a binding added, a group left) ends the tokens
the application holds for them: userinfo refuses them, introspection calls them inactive and
the refresh grant gives nothing new."""

import secrets

import httpx
import pytest
from sqlalchemy import delete, insert

from idp.core.extensions import db
from idp.identity.accounts import find_group, find_user
from idp.models.users import group_members
from tests.factories import make_group
from tests.http.applications.oidc import bind_group, make_client
from tests.http.applications.test_oidc_rules import exchange, get_code


def tokens_for(app, live_server, visitor, client_id, secret) -> dict:
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    response = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert response.status_code == 200, response.text
    return response.json()


def remove_access(app, how):
    with app.app_context():
        if how == "binding":
            make_group("staff")
            bind_group(app, "rp", "staff")
        else:  # alice leaves the group the application is bound to
            db.session.execute(
                delete(group_members).where(
                    group_members.c.group_id == find_group("staff").id,
                    group_members.c.user_id == find_user("alice").id,
                )
            )
            db.session.commit()


@pytest.mark.parametrize("how", ["binding", "group"])
def test_removing_access_ends_the_tokens_everywhere(app, live_server, visitor, alice, how):
    client_id, secret = make_client(app)
    if how == "group":
        with app.app_context():
            db.session.execute(
                insert(group_members).values(
                    group_id=make_group("staff").id, user_id=find_user("alice").id
                )
            )
            db.session.commit()
        bind_group(app, "rp", "staff")
    token = tokens_for(app, live_server, visitor, client_id, secret)
    userinfo = live_server("/application/o/userinfo/")
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert httpx.get(userinfo, headers=headers).status_code == 200

    remove_access(app, how)

    refused = httpx.get(userinfo, headers=headers)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    introspected = httpx.post(
        live_server("/application/o/introspect/"),
        data={"token": token["access_token"]},
        auth=(client_id, secret),
    )
    assert introspected.json() == {"active": False}
    refreshed = httpx.post(
        live_server("/application/o/token/"),
        data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(client_id, secret),
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("change", ["binding", "sign-out", "disable"])
def test_a_code_is_refused_when_its_user_lost_access_before_the_exchange(
    app, live_server, visitor, alice, change
):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    answer = get_code(visitor, client_id, verifier)
    if change == "binding":
        remove_access(app, "binding")
    elif change == "sign-out":
        kind, page = visitor.follow("/logout")
        if kind == "page" and "csrf_token" in page.text:
            visitor.post_form(page, {})
        assert visitor.http.get("/me").status_code in (302, 303)
    else:
        with app.app_context():
            find_user("alice").is_active = False
            db.session.commit()
    refused = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
