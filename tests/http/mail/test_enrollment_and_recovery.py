"""The shipped enrollment and recovery flows end to end, with a real SMTP server on loopback."""

import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.credentials.passwords import check_password
from idp.models import FlowToken, User
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user

ENROLLMENT = "default-enrollment-flow"
RECOVERY = "default-recovery-flow"
LOGIN = "default-authentication-flow"
NEW_PASSWORD = "violet kettle marches north"
INVALID = "Invalid username or password."


def new_browser(app) -> FlowDriver:
    return FlowDriver(app.test_client())


def answers(**changes) -> dict:
    return {
        "username": "newbie",
        "name": "New Bie",
        "email": "newbie@example.test",
        "password": NEW_PASSWORD,
        "password_repeat": NEW_PASSWORD,
        **changes,
    }


def follow(browser: FlowDriver, link: str, slug: str):
    """Open the mailed link in this browser, then the flow page it sends to."""
    response = browser.client.get(urlsplit(link).path)
    assert response.status_code == 303
    return browser.client.get(response.headers["Location"])


def user_named(app, username) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge_all()
        return user


def counts(app) -> tuple[int, int]:
    with app.app_context():
        users = db.session.scalar(select(func.count()).select_from(User))
        tokens = db.session.scalar(select(func.count()).select_from(FlowToken))
        return users, tokens


def is_signed_in(browser: FlowDriver) -> bool:
    return browser.client.get("/me").status_code == 200


# --- enrollment -------------------------------------------------------------------------------


def test_enrollment_creates_an_inactive_user_that_the_link_activates_and_signs_in(
    app, flows, mailbox
):
    assert flows.client.get("/enroll").headers["Location"] == f"/flow/{ENROLLMENT}/"
    flows.open(ENROLLMENT)
    assert flows.stage == "prompt"
    flows.submit(ENROLLMENT, answers())
    assert flows.stage == "email"
    # A sign-up reads as success and shows the address as typed.
    assert "Almost done: we sent a mail to newbie@example.test" in " ".join(flows.text.split())
    user = user_named(app, "newbie")
    assert user is not None and not user.is_active
    assert user.email == "newbie@example.test" and user.name == "New Bie"
    assert not is_signed_in(flows)

    (mail,) = mailbox.wait_for(1)
    assert mail["To"] == "newbie@example.test"
    assert mail["Subject"] == "Confirm your Gatehouse account"
    response = follow(flows, mailbox.last_link(), ENROLLMENT)

    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert user_named(app, "newbie").is_active
    assert is_signed_in(flows)


def test_enrollment_can_be_finished_in_another_browser(app, flows, mailbox):
    flows.open(ENROLLMENT)
    flows.submit(ENROLLMENT, answers())
    phone = new_browser(app)
    follow(phone, mailbox.last_link(), ENROLLMENT)
    assert is_signed_in(phone)
    assert not is_signed_in(flows)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"password": "short", "password_repeat": "short"}, "password", "Use at least 8"),
        ({"password_repeat": "something else entirely"}, "password_repeat", "do not match"),
        ({"username": "taken"}, "username", "This username is taken."),
        ({"email": "not an address"}, "email", "valid email address"),
        ({"username": ""}, "username", "Username is required."),
    ],
    ids=["weak", "mismatched", "taken-username", "bad-email", "missing"],
)
def test_bad_enrollment_answers_are_refused_clearly_and_nothing_is_written(
    app, flows, mailbox, changes, field, message
):
    with app.app_context():
        make_user("taken")
    before = counts(app)
    flows.open(ENROLLMENT)
    response = flows.submit(ENROLLMENT, answers(**changes))
    assert response.status_code == 400
    assert flows.stage == "prompt"
    assert message in flows.page
    assert f'id="{field}-errors"' in flows.page
    assert counts(app) == before
    wait_for_mail()
    assert mailbox.messages == []


def test_an_unconfirmed_account_cannot_sign_in(app, flows, mailbox):
    flows.open(ENROLLMENT)
    flows.submit(ENROLLMENT, answers())
    other = new_browser(app)
    other.sign_in("newbie", NEW_PASSWORD)
    assert not is_signed_in(other)


# --- recovery ---------------------------------------------------------------------------------


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


def ask_for_recovery(browser: FlowDriver, name: str):
    browser.open(RECOVERY)
    assert browser.stage == "identification"
    return browser.submit(RECOVERY, {"uid_field": name})


def test_recovery_from_another_browser_changes_the_password(app, flows, mailbox, alice):
    assert flows.client.get("/recover").headers["Location"] == f"/flow/{RECOVERY}/"
    ask_for_recovery(flows, "alice")
    assert flows.stage == "email"
    phone = new_browser(app)
    follow(phone, mailbox.last_link(), RECOVERY)
    phone.open(RECOVERY)
    assert phone.stage == "prompt"
    assert not is_signed_in(phone)

    response = phone.submit(RECOVERY, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})

    assert response.status_code == 303 and response.headers["Location"] == "/me"
    assert is_signed_in(phone)
    assert not is_signed_in(flows)
    with app.app_context():
        password_hash = db.session.get(User, alice).password_hash
        assert check_password(NEW_PASSWORD, password_hash)
        assert not check_password(PASSWORD, password_hash)
    laptop = new_browser(app)
    laptop.sign_in("alice", PASSWORD)
    assert INVALID in laptop.text
    laptop.sign_in("alice", NEW_PASSWORD)
    assert is_signed_in(laptop)


@pytest.mark.parametrize(
    ("password", "repeat", "message"),
    [
        ("short", "short", "Use at least 8 characters."),
        (NEW_PASSWORD, "something else entirely", "The passwords do not match."),
        (PASSWORD, PASSWORD, "You used this password before."),
    ],
    ids=["weak", "mismatched", "reused"],
)
def test_a_bad_new_password_is_refused_and_the_old_one_still_works(
    app, flows, mailbox, alice, password, repeat, message
):
    ask_for_recovery(flows, "alice")
    follow(flows, mailbox.last_link(), RECOVERY)
    flows.open(RECOVERY)
    response = flows.submit(RECOVERY, {"password": password, "password_repeat": repeat})
    assert response.status_code == 400
    assert flows.stage == "prompt"
    assert message in flows.text
    with app.app_context():
        assert check_password(PASSWORD, db.session.get(User, alice).password_hash)


def test_recovery_for_an_unknown_name_mails_nothing(app, flows, mailbox, alice):
    ask_for_recovery(flows, "nobody")
    assert flows.stage == "email"
    assert "If an account exists for" in flows.text and "nobody" in flows.text
    wait_for_mail()
    assert mailbox.messages == []


def test_the_sign_in_page_offers_recovery_and_enrollment(flows):
    flows.open(LOGIN)
    assert f'href="/flow/{RECOVERY}/"' in flows.page
    assert f'href="/flow/{ENROLLMENT}/"' in flows.page


def test_a_signed_in_visitor_is_not_offered_the_flows(app, flows, alice):
    flows.sign_in("alice", PASSWORD)
    for slug in (ENROLLMENT, RECOVERY):
        flows.open(slug)
        assert "You are already signed in." in flows.text


def test_recovery_never_bypasses_the_second_factor(app, flows, mailbox, alice):
    import pyotp

    from idp.credentials import authenticators

    secret = authenticators.new_totp_secret()
    settings = authenticators.TotpSettings()
    with app.app_context():
        user = db.session.get(User, alice)
        # The code of the previous time step, so the one asked for below is still unused.
        earlier = pyotp.TOTP(secret).at(time.time() - 30)
        assert authenticators.add_totp_device(user, secret, settings, earlier)
        db.session.commit()
    ask_for_recovery(flows, "alice")
    mailbox_only = new_browser(app)
    follow(mailbox_only, mailbox.last_link(), RECOVERY)
    mailbox_only.open(RECOVERY)
    assert mailbox_only.stage == "authenticator_validate"  # not the new-password prompt
    mailbox_only.submit(RECOVERY, {"code": "000000"})
    assert mailbox_only.stage == "authenticator_validate"
    mailbox_only.submit(RECOVERY, {"code": pyotp.TOTP(secret).now()})
    assert mailbox_only.stage == "prompt"


def test_a_resumed_recovery_keeps_its_next_address(app, flows, mailbox, alice):
    flows.open(RECOVERY, next_url="/me")
    flows.submit(RECOVERY, {"uid_field": "alice"}, next_url="/me")
    phone = new_browser(app)
    follow(phone, mailbox.last_link(), RECOVERY)
    phone.open(RECOVERY)
    response = phone.submit(RECOVERY, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.headers["Location"] == "/me"
