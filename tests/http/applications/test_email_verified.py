"""email_verified is true only for an address its owner proved by following a mailed link, or
an administrator set; an address changed since is not verified."""

import re
import secrets
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import User
from idp.providers.oauth2.claims import standard_claims
from tests.conftest import FlowDriver, MailProgramBrowser
from tests.factories import PASSWORD, make_user
from tests.http.admin.conftest import post, signed_in
from tests.http.applications.oidc import Browser, make_client
from tests.http.applications.test_oidc_rules import exchange, get_code

NEW_PASSWORD = "violet kettle marches north"


@pytest.fixture
def app(mailbox, app):
    """The shared app, made after the SMTP server so that it sends mail there."""
    app.test_client_class = MailProgramBrowser
    return app


def claims_of(app, username) -> dict:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        return standard_claims(user, ["openid", "email"], [])


def open_link(app, link: str) -> None:
    browser = FlowDriver(app.test_client())
    assert browser.client.get(urlsplit(link).path).status_code == 303


def userinfo_of(app, live_server, username) -> dict:
    client_id, secret = make_client(app)
    visitor = Browser(live_server.url)
    try:
        verifier = secrets.token_urlsafe(48)
        answer = get_code(visitor, client_id, verifier, username=username, scope="openid email")
    finally:
        visitor.close()
    token = exchange(live_server, client_id, secret, answer["code"], verifier).json()
    return httpx.get(
        live_server("/application/o/userinfo/"),
        headers={"Authorization": f"Bearer {token['access_token']}"},
    ).json()


def test_an_address_nobody_proved_is_not_verified(app, live_server):
    with app.app_context():
        make_user("alice")  # the address was written straight into the account
    info = userinfo_of(app, live_server, "alice")
    assert info["email"] == "alice@example.test" and info["email_verified"] is False


def test_an_address_an_administrator_sets_from_the_command_line_is_verified(
    app, live_server, runner
):
    result = runner.invoke(
        args=["users", "create", "carol", "--email", "carol@example.test", "--password-stdin"],
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "carol"))
        user.name = "Carol"
        db.session.commit()
    info = userinfo_of(app, live_server, "carol")
    assert info["email_verified"] is True


def test_signing_up_through_the_mailed_link_verifies_the_address(app, mailbox):
    browser = FlowDriver(app.test_client())
    browser.open("default-enrollment-flow")
    browser.submit(
        "default-enrollment-flow",
        {
            "username": "newbie",
            "name": "New Bie",
            "email": "newbie@example.test",
            "password": NEW_PASSWORD,
            "password_repeat": NEW_PASSWORD,
        },
    )
    assert claims_of(app, "newbie")["email_verified"] is False
    open_link(app, mailbox.last_link())
    assert claims_of(app, "newbie")["email_verified"] is True


def test_a_recovery_link_proves_the_address_and_a_changed_address_is_not_verified(app, mailbox):
    with app.app_context():
        make_user("alice")
    assert claims_of(app, "alice")["email_verified"] is False
    browser = FlowDriver(app.test_client())
    browser.open("default-recovery-flow")
    browser.submit("default-recovery-flow", {"uid_field": "alice"})
    open_link(app, mailbox.last_link())
    assert claims_of(app, "alice")["email_verified"] is True
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "alice"))
        user.email = "alice@elsewhere.test"
        db.session.commit()
    assert claims_of(app, "alice") == {**claims_of(app, "alice"), "email_verified": False}


def test_an_administrator_vouches_for_an_address_or_takes_it_back(app):
    with app.app_context():
        make_user("root", superuser=True)
    admin = signed_in(app, "root")
    form = {"username": "dave", "email": "dave@example.test", "email_verified": "y"}
    assert post(admin, "/admin/users/new", form).status_code == 303
    assert claims_of(app, "dave")["email_verified"] is True
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "dave"))
    edit_page = admin.get(f"/admin/users/{user_id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]* checked id="email_verified"', edit_page)
    unticked = {"username": "dave", "email": "dave@example.test"}
    assert post(admin, f"/admin/users/{user_id}/edit", unticked).status_code == 303
    assert claims_of(app, "dave")["email_verified"] is False
