"""A recovery link an admin mails works for the recovery email stage's token_expiry_minutes
and not a second longer: the clock is moved (time-machine), never slept."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from tests.conftest import FlowDriver, MailProgramBrowser
from tests.factories import make_user
from tests.http.admin.test_recovery_link import RECOVERY, send_link

LINK_LIFETIME = timedelta(minutes=30)  # default-recovery-flow's token_expiry_minutes


@pytest.fixture
def app(mailbox, app):
    """The shared app, made after the SMTP server so that it sends mail there."""
    app.test_client_class = MailProgramBrowser
    return app


@pytest.fixture
def alice(app) -> int:
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


@pytest.mark.parametrize(
    ("age", "status"), [(LINK_LIFETIME - timedelta(seconds=1), 303), (LINK_LIFETIME, 410)]
)
def test_an_admins_recovery_link_works_until_its_lifetime_ends(
    app, admin, alice, mailbox, clock, age, status
):
    assert send_link(admin, alice).status_code == 303
    mailbox.wait_for(1)
    clock.shift(age)
    browser = FlowDriver(app.test_client())
    assert browser.client.get(urlsplit(mailbox.last_link()).path).status_code == status
    browser.open(RECOVERY)
    assert browser.stage == ("prompt" if status == 303 else "identification")
