"""The hourly limit on mailed links holds against a stranger with many parallel requests, and
a stranger who spends it does not keep the account's owner out of recovery.

Fifty browsers ask at the same moment over real HTTP; at most the limit get a mail. On SQLite
some may be told to try again shortly (503: one writer at a time); none gets a 500, and every
link counted is a link made. With IDP_TEST_DATABASE_URL set this runs on PostgreSQL.
"""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.models import FlowToken
from idp.protection.mail_limits import CLIENT_IP, RECIPIENT, sends_of
from tests import factories
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.usefixtures("many_postgres_connections")

RECOVERY = "default-recovery-flow"
PARALLEL = 50
LIMIT = 5  # the shipped recovery flow's sends_per_hour
IP_LIMIT = 20  # and its sends_per_hour_per_ip
LOOPBACK = "127.0.0.1"
SENT = "If an account exists for"
TRY_AGAIN = "Please try again shortly."


@pytest.fixture
def app_settings(app_settings):
    # PostgreSQL: a connection for each of the fifty requests at once.
    if POSTGRES_URL:
        return {**app_settings, "ENVIRON": {"IDP_DATABASE_POOL_SIZE": str(PARALLEL // 2 + 1)}}
    return app_settings


def at_identification(new_visitor):
    visitor = new_visitor()
    visitor.open(RECOVERY)
    assert visitor.stage == "identification"
    return visitor


def ask_together(visitors, names) -> list[str]:
    """Every visitor names its account at the same moment; what each was answered."""
    barrier = threading.Barrier(len(visitors), timeout=60)

    def ask(visitor, name):
        barrier.wait()
        response = visitor.submit(RECOVERY, {"uid_field": name})
        if response.status_code == 503 and TRY_AGAIN in visitor.text:
            return "try again"
        if response.status_code == 303 and SENT in visitor.text:
            return "sent"
        return f"{response.status_code} {visitor.text[:200]}"

    with ThreadPoolExecutor(max_workers=len(visitors)) as pool:
        return list(pool.map(ask, visitors, names, timeout=180))


def tokens_made(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FlowToken))


def counted(app, scope, key) -> int:
    with app.app_context():
        return sends_of(scope, key)


def mails_to(mailbox, address) -> int:
    wait_for_mail()
    return sum(message["To"] == address for message in mailbox.messages)


def test_fifty_parallel_recovery_requests_mail_at_most_the_hourly_limit(
    app, new_visitor, mailbox, alice
):
    visitors = [at_identification(new_visitor) for _ in range(PARALLEL)]
    answers = ask_together(visitors, ["alice"] * PARALLEL)

    assert set(answers) <= {"sent", "try again"}, answers
    mailed = mails_to(mailbox, "alice@example.test")
    assert 1 <= mailed <= LIMIT
    if POSTGRES_URL:
        assert mailed == LIMIT  # nobody is turned away on PostgreSQL: the limit decides
    assert counted(app, RECIPIENT, "alice") == mailed == tokens_made(app)
    assert counted(app, CLIENT_IP, LOOPBACK) == mailed


def test_fifty_parallel_requests_for_different_names_count_at_most_the_ip_limit(
    app, new_visitor, mailbox
):
    with app.app_context():
        # Half the names are accounts, half are not: both count against the IP alike.
        for index in range(0, PARALLEL, 2):
            factories.make_user(f"member{index}", password=None)
    names = [f"member{index}" for index in range(PARALLEL)]
    visitors = [at_identification(new_visitor) for _ in range(PARALLEL)]
    answers = ask_together(visitors, names)

    assert set(answers) <= {"sent", "try again"}, answers
    per_name = [counted(app, RECIPIENT, name) for name in names]
    assert set(per_name) <= {0, 1}
    links = tokens_made(app)
    assert 1 <= links <= IP_LIMIT
    if POSTGRES_URL:
        assert links == IP_LIMIT
    assert counted(app, CLIENT_IP, LOOPBACK) == sum(per_name) == links
    wait_for_mail()
    mailed = {message["To"] for message in mailbox.messages}
    assert len(mailed) == len(mailbox.messages)  # nobody got two
    assert mailed == {
        f"{name}@example.test" for name, sends in zip(names, per_name, strict=True) if sends
    } - {f"member{index}@example.test" for index in range(1, PARALLEL, 2)}


def test_a_stranger_who_spent_the_hour_does_not_keep_the_owner_out(
    app, new_visitor, mailbox, alice
):
    owner = new_visitor()
    owner.sign_in("alice")
    # Signed out (the session cookie gone); the browser still holds its device cookie.
    owner.http.cookies.delete("gatehouse_session")
    assert not owner.is_signed_in
    for _ in range(LIMIT + 3):
        stranger = at_identification(new_visitor)
        stranger.submit(RECOVERY, {"uid_field": "alice"})
        assert SENT in stranger.text  # the same page, sent or not
    assert mails_to(mailbox, "alice@example.test") == LIMIT

    owner.open(RECOVERY)
    owner.submit(RECOVERY, {"uid_field": "alice"})
    assert mails_to(mailbox, "alice@example.test") == LIMIT + 1


def test_the_limit_opens_again_after_an_hour(app, new_visitor, mailbox, alice):
    start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start) as clock:
        for _ in range(LIMIT + 1):
            at_identification(new_visitor).submit(RECOVERY, {"uid_field": "alice"})
        assert mails_to(mailbox, "alice@example.test") == LIMIT
        clock.move_to(start + timedelta(minutes=61))
        at_identification(new_visitor).submit(RECOVERY, {"uid_field": "alice"})
        assert mails_to(mailbox, "alice@example.test") == LIMIT + 1
