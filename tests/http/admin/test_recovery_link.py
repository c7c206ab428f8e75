"""An administrator mails a user a recovery link from the user's page: the user follows it,
gives their second factor if they have one, and sets a new password. The link is in the mail
and nowhere else."""

import time
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.credentials import authenticators
from idp.credentials.passwords import check_password
from idp.models import Event, FlowToken, User
from tests.conftest import FlowDriver, MailProgramBrowser
from tests.factories import make_user
from tests.http.admin.conftest import events_of, post, text

RECOVERY = "default-recovery-flow"
NEW_PASSWORD = "violet kettle marches north"


@pytest.fixture
def app(mailbox, app):
    """The shared app, made after the SMTP server so that it sends mail there."""
    app.test_client_class = MailProgramBrowser
    return app


@pytest.fixture
def alice(app) -> int:
    with app.app_context():
        return make_user("alice", email="Alice@example.test").id


def send_link(admin, user_id: int):
    return post(admin, f"/admin/users/{user_id}/recovery-link")


def open_link(app, link: str) -> FlowDriver:
    """A new browser that follows the mailed link into the recovery flow."""
    browser = FlowDriver(app.test_client())
    response = browser.client.get(urlsplit(link).path)
    assert response.status_code == 303
    browser.open(RECOVERY)
    return browser


def token_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FlowToken))


def test_a_mailed_recovery_link_lets_the_user_set_a_new_password(
    app, admin, alice, mailbox, caplog
):
    response = send_link(admin, alice)
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{alice}"
    page = text(admin.get(response.headers["Location"]))
    assert "A recovery link was mailed to Alice@example.test." in page
    (mail,) = mailbox.wait_for(1)
    assert mail["To"] == "Alice@example.test"
    link = mailbox.last_link()
    token = urlsplit(link).path.rsplit("/", 1)[1]
    assert token not in page and token not in caplog.text
    (event,) = events_of(app, "admin_recovery_link_sent")
    assert event.detail["target"]["name"] == "alice" and event.detail["flow"] == RECOVERY
    assert token not in str(event.detail)

    browser = open_link(app, link)
    assert browser.stage == "prompt"
    response = browser.submit(RECOVERY, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.status_code == 303
    assert browser.client.get("/me").status_code == 200
    with app.app_context():
        assert check_password(NEW_PASSWORD, db.session.get(User, alice).password_hash)
    assert open_link_again(app, link) == 410


def open_link_again(app, link: str) -> int:
    return app.test_client().get(urlsplit(link).path).status_code


def test_a_mailed_recovery_link_still_asks_for_the_second_factor(app, admin, alice, mailbox):
    secret = authenticators.new_totp_secret()
    with app.app_context():
        user = db.session.get(User, alice)
        earlier = pyotp.TOTP(secret).at(time.time() - 30)
        assert authenticators.add_totp_device(user, secret, authenticators.TotpSettings(), earlier)
        db.session.commit()
    send_link(admin, alice)
    browser = open_link(app, mailbox.last_link())
    assert browser.stage == "authenticator_validate"  # not the new-password prompt
    browser.submit(RECOVERY, {"code": "000000"})
    assert browser.stage == "authenticator_validate"
    browser.submit(RECOVERY, {"code": pyotp.TOTP(secret).now()})
    assert browser.stage == "prompt"


def test_a_user_without_an_email_address_gets_no_link_and_the_admin_is_told(app, admin, mailbox):
    with app.app_context():
        user = make_user("bob")
        user.email = None
        db.session.commit()
        bob = user.id
    page = text(admin.get(f"/admin/users/{bob}"))
    assert "bob has no email address, so no link can be sent." in page
    response = send_link(admin, bob)
    assert response.status_code == 303
    page = text(admin.get(response.headers["Location"]))
    assert "bob has no email address, so no link can be sent." in page
    wait_for_mail()
    assert mailbox.messages == []
    assert token_count(app) == 0 and events_of(app, "admin_recovery_link_sent") == []


def test_recovery_links_are_limited_per_hour_like_the_email_stage(app, admin, alice, mailbox):
    for _ in range(5):  # the shipped recovery flow's sends_per_hour
        assert "was mailed" in text(admin.get(send_link(admin, alice).headers["Location"]))
    page = text(admin.get(send_link(admin, alice).headers["Location"]))
    assert "5 links were mailed to this address in the last hour already." in page
    assert len(mailbox.wait_for(5)) == 5
    wait_for_mail()
    assert len(mailbox.messages) == 5 and token_count(app) == 5


def test_sending_a_recovery_link_needs_the_csrf_token(app, admin, alice, mailbox):
    response = post(admin, f"/admin/users/{alice}/recovery-link", csrf=False)
    assert response.status_code == 400
    wait_for_mail()
    assert mailbox.messages == []
    with app.app_context():
        assert not db.session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.action == "admin_recovery_link_sent")
        )


def test_a_disabled_user_gets_no_link(app, admin, alice, mailbox):
    with app.app_context():
        db.session.get(User, alice).is_active = False
        db.session.commit()
    page = text(admin.get(send_link(admin, alice).headers["Location"]))
    assert "alice is disabled. Enable the account first." in page
    assert token_count(app) == 0


def test_the_mail_is_in_the_language_the_user_chose_not_the_administrators(
    app, admin, alice, mailbox
):
    with app.app_context():
        db.session.get(User, alice).language = "fr"
        db.session.commit()
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"
    assert send_link(admin, alice).status_code == 303
    (mail,) = mailbox.wait_for(1)
    assert mail["Subject"] == "Réinitialisez votre mot de passe Gatehouse"
