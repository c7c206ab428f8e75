"""A deleted application takes its tokens, codes and remembered consents with it, also on
SQLite, which enforces no ON DELETE rule and gives the id to the next application made."""

import secrets

import httpx
from sqlalchemy import func, select

from idp.applications.loading import load_application
from idp.applications.manage import delete_application
from idp.core.extensions import db
from idp.models import Application, AuthorizationRequest, Consent, OAuth2Token
from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import authorize_url, exchange, get_code


def rows(app, model, application_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(model).where(model.application_id == application_id)
        )


def test_the_next_application_inherits_no_token_or_consent_of_a_deleted_one(
    app, live_server, visitor, alice
):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    code = get_code(visitor, client_id, verifier, scope="openid offline_access")["code"]
    tokens = exchange(live_server, client_id, secret, code, verifier).json()
    with app.app_context():
        old = db.session.scalar(select(Application.id).where(Application.slug == "rp"))
        delete_application(load_application("rp"))
        db.session.commit()
    make_client(app, slug="newcomer")

    userinfo = httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert userinfo.status_code == 401
    for model in (OAuth2Token, Consent, AuthorizationRequest):
        assert rows(app, model, old) == 0, model.__name__


def test_a_consent_given_for_a_deleted_application_goes_to_no_later_one(
    app, live_server, visitor, alice
):
    """The authorization flow's plan names the application by id: a consent page left open
    while the application is deleted must not, once agreed, count for the next application
    made (SQLite would give it the same id), which would then be let in without asking."""
    client_id, _secret = make_client(app)
    kind, page = visitor.authorize(authorize_url(client_id, secrets.token_urlsafe(48)), "alice",
                                   consent=False)  # fmt: skip
    assert kind == "page" and "will receive" in page.text
    with app.app_context():
        delete_application(load_application("rp"))
        db.session.commit()
    newcomer, _secret = make_client(app, slug="newcomer")
    visitor.post_form(page, {}, REDIRECT_URI)
    kind, page = visitor.authorize(authorize_url(newcomer, secrets.token_urlsafe(48)), "alice",
                                   consent=False)  # fmt: skip
    assert kind == "page" and "will receive" in page.text
