"""The hourly limits on mailed links: per name typed, per client IP, and the owner's own
device, counted in atomic rows (idp.protection.mail_limits)."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.models import FlowToken, MailSendCount
from idp.protection.mail_limits import CLIENT_IP, DEVICE, RECIPIENT, sends_of
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_user, unique

RECOVERY = "default-recovery-flow"
SENT_AGAIN = "We sent another link."
TOO_MANY = "You asked for several links; try again later."
STRANGER_IP = "198.51.100.7"
OWNER_IP = "203.0.113.9"
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(mailbox, app):
    return app


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


def browser(app, ip=STRANGER_IP) -> FlowDriver:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ip
    return FlowDriver(client)


def ask_for_link(driver, name, slug=RECOVERY):
    driver.open(slug)
    return driver.submit(slug, {"uid_field": name})


def mails_to(mailbox, address) -> int:
    wait_for_mail()
    return sum(message["To"] == address for message in mailbox.messages)


def count(app, scope, key) -> int:
    with app.app_context():
        return sends_of(scope, key)


def limited_flow(options):
    return make_flow(
        [
            {"stage": "default-recovery-identification"},
            {"define": {"name": unique("mail-"), "type": "email", "options": options}},
        ],
        designation="recovery",
    )


def test_each_link_is_counted_for_the_name_and_the_client_ip(app, alice, mailbox):
    ask_for_link(browser(app), "Alice")
    ask_for_link(browser(app), "nobody")
    assert count(app, RECIPIENT, "alice") == 1
    assert count(app, RECIPIENT, "nobody") == 1
    assert count(app, CLIENT_IP, STRANGER_IP) == 2
    assert mails_to(mailbox, "alice@example.test") == 1


def test_one_client_ip_cannot_mail_more_than_its_hourly_limit_whatever_the_names(app, mailbox):
    with app.app_context():
        slug = limited_flow({"sends_per_hour": 5, "sends_per_hour_per_ip": 3})
        addresses = [make_user(f"user{index}", password=None).email for index in range(5)]
    for index in range(5):
        ask_for_link(browser(app), f"user{index}", slug)
    assert [mails_to(mailbox, address) for address in addresses] == [1, 1, 1, 0, 0]
    assert count(app, CLIENT_IP, STRANGER_IP) == 3
    # The names refused by the IP's limit were not counted against themselves either.
    assert [count(app, RECIPIENT, f"user{index}") for index in range(5)] == [1, 1, 1, 0, 0]
    # Another client is not held back by this one.
    ask_for_link(browser(app, ip=OWNER_IP), "user4", slug)
    assert mails_to(mailbox, addresses[4]) == 1


def test_the_ip_limit_refuses_a_resend_politely(app, alice, mailbox):
    with app.app_context():
        slug = limited_flow({"sends_per_hour": 5, "sends_per_hour_per_ip": 2})
    driver = browser(app)
    ask_for_link(driver, "alice", slug)
    driver.submit(slug, {})
    assert SENT_AGAIN in driver.text
    driver.submit(slug, {})
    assert TOO_MANY in driver.text
    assert mails_to(mailbox, "alice@example.test") == 2


def spend_alices_hour(app):
    """A stranger asks for alice's link until her hourly limit (5, shipped) is spent."""
    for _ in range(6):
        ask_for_link(browser(app), "alice")


def signed_in_before(app, ip=OWNER_IP) -> FlowDriver:
    """Alice's own browser: she signed in on it, then signed out (the device is remembered)."""
    driver = browser(app, ip=ip)
    driver.sign_in("alice", PASSWORD)
    driver.sign_out()
    return driver


def test_a_stranger_who_spent_the_limit_does_not_keep_the_owner_out_of_recovery(
    app, alice, mailbox
):
    owner = signed_in_before(app)
    spend_alices_hour(app)
    assert mails_to(mailbox, "alice@example.test") == 5
    ask_for_link(browser(app), "alice")  # a new stranger's browser: still refused
    assert mails_to(mailbox, "alice@example.test") == 5

    ask_for_link(owner, "alice")
    assert mails_to(mailbox, "alice@example.test") == 6
    with app.app_context():
        (device_key,) = db.session.scalars(
            select(MailSendCount.key).where(MailSendCount.scope == DEVICE)
        )
    assert device_key.startswith(f"{alice}:")
    assert count(app, RECIPIENT, "alice") == 5


def test_the_owners_device_is_not_held_back_by_a_spent_ip_either(app, alice, mailbox):
    with app.app_context():
        slug = limited_flow({"sends_per_hour": 5, "sends_per_hour_per_ip": 1})
    owner = signed_in_before(app, ip=STRANGER_IP)
    ask_for_link(browser(app), "nobody", slug)  # the shared address spends its hour
    ask_for_link(owner, "alice", slug)
    assert mails_to(mailbox, "alice@example.test") == 1
    assert count(app, CLIENT_IP, STRANGER_IP) == 1


def test_the_owners_device_has_an_hourly_limit_of_its_own(app, alice, mailbox):
    owner = signed_in_before(app)
    ask_for_link(owner, "alice")
    for _ in range(5):
        owner.submit(RECOVERY, {})
    assert TOO_MANY in owner.text
    assert mails_to(mailbox, "alice@example.test") == 5


def test_another_users_device_does_not_lift_the_limit(app, alice, mailbox):
    with app.app_context():
        make_user("bob", email="bob@example.test")
    bobs_browser = browser(app, ip=OWNER_IP)
    bobs_browser.sign_in("bob", PASSWORD)
    bobs_browser.sign_out()
    spend_alices_hour(app)
    ask_for_link(bobs_browser, "alice")
    assert mails_to(mailbox, "alice@example.test") == 5


def test_the_limits_open_again_an_hour_after_the_first_link(app, alice, mailbox):
    with time_machine.travel(START, tick=False) as clock:
        spend_alices_hour(app)
        assert mails_to(mailbox, "alice@example.test") == 5
        clock.move_to(START + timedelta(minutes=59))
        ask_for_link(browser(app), "alice")
        assert mails_to(mailbox, "alice@example.test") == 5
        clock.move_to(START + timedelta(minutes=60, seconds=1))
        ask_for_link(browser(app), "alice")
        assert mails_to(mailbox, "alice@example.test") == 6
        assert count(app, RECIPIENT, "alice") == 1
        assert count(app, CLIENT_IP, STRANGER_IP) == 1


def test_a_refused_request_makes_no_token(app, alice, mailbox):
    spend_alices_hour(app)
    with app.app_context():
        tokens = db.session.scalar(select(func.count()).select_from(FlowToken))
    assert tokens == 5
