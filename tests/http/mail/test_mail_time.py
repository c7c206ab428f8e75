"""Mailed links and sign-ups as time passes, with the clock moved (time-machine), never slept:
a link works until its lifetime and not a second after, the hourly mail limit counts one hour,
and an unconfirmed sign-up holds its name for IDP_UNCONFIRMED_SIGNUP_LIFETIME."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import FlowToken, User
from tests.conftest import FlowDriver
from tests.factories import make_user
from tests.http.mail.test_email_stage import TOO_MANY, ask_for_link, limited_flow, mails_sent
from tests.http.mail.test_signups import TAKEN, sign_up, users

RECOVERY = "default-recovery-flow"
LINK_LIFETIME = timedelta(minutes=30)  # default-recovery-flow's token_expiry_minutes
SIGNUP_LIFETIME = timedelta(seconds=86400)  # IDP_UNCONFIRMED_SIGNUP_LIFETIME's default
SECOND = timedelta(seconds=1)


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


def mailed_link(app, mailbox) -> str:
    return urlsplit(mailbox.last_link()).path


@pytest.mark.parametrize(("age", "status"), [(LINK_LIFETIME - SECOND, 303), (LINK_LIFETIME, 410)])
def test_a_mailed_link_works_until_its_lifetime_ends(
    app, flows, mailbox, alice, clock, age, status
):
    ask_for_link(flows, "alice")
    path = mailed_link(app, mailbox)
    clock.shift(age)
    assert flows.client.get(path).status_code == status
    if status == 303:
        flows.open(RECOVERY)
        assert flows.stage == "prompt"  # the new password, in the plan the link resumed


def test_the_hourly_mail_limit_counts_one_hour(app, mailbox, alice, clock):
    with app.app_context():
        slug = limited_flow({"sends_per_hour": 1})
    ask_for_link(FlowDriver(app.test_client()), "alice", slug)
    assert mails_sent(mailbox) == 1
    clock.shift(timedelta(hours=1) - SECOND)
    refused = FlowDriver(app.test_client())
    ask_for_link(refused, "alice", slug)
    refused.submit(slug, {})
    assert TOO_MANY in refused.text
    assert mails_sent(mailbox) == 1
    clock.shift(SECOND)
    ask_for_link(FlowDriver(app.test_client()), "alice", slug)
    assert mails_sent(mailbox) == 2


def test_an_unconfirmed_signup_holds_its_name_until_its_lifetime_ends(app, mailbox, clock):
    sign_up(app, username="newbie", email="first@example.test")
    clock.shift(SIGNUP_LIFETIME - SECOND)
    held = sign_up(app, username="newbie", email="second@example.test")
    assert held.stage == "prompt" and TAKEN in held.text
    clock.shift(2 * SECOND)
    replaced = sign_up(app, username="newbie", email="second@example.test")
    assert replaced.stage == "email"
    assert users(app) == [("newbie", "second@example.test", False)]


def test_purge_deletes_a_signup_only_once_its_lifetime_has_passed(app, runner, mailbox, clock):
    sign_up(app, username="newbie", email="first@example.test")
    clock.shift(SIGNUP_LIFETIME - SECOND)
    assert runner.invoke(args=["maintenance", "purge"]).exit_code == 0
    assert [name for name, _, _ in users(app)] == ["newbie"]
    clock.shift(2 * SECOND)
    assert runner.invoke(args=["maintenance", "purge"]).exit_code == 0
    assert users(app) == []


def test_purge_keeps_an_expired_link_for_an_hour_then_deletes_it(
    app, runner, mailbox, alice, clock
):
    ask_for_link(FlowDriver(app.test_client()), "alice")

    def links() -> int:
        with app.app_context():
            return db.session.scalar(select(func.count()).select_from(FlowToken))

    clock.shift(timedelta(hours=1) - SECOND)  # expired at 30 minutes, kept an hour after made
    runner.invoke(args=["maintenance", "purge"])
    assert links() == 1
    clock.shift(2 * SECOND)
    runner.invoke(args=["maintenance", "purge"])
    assert links() == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 1
