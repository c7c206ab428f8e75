"""Fifty sign-ins at once on SQLite, the laptop database, against a real threaded server:
no 5xx, and the counters and sessions stay exact.

A writer that finds SQLite's write lock taken waits its turn (idp.core.extensions). The failed-attempt
counters still commit on their own before the password hash runs, so the hash never holds the
lock. tests/postgres/test_concurrency.py has the production race.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.credentials import password_checks
from idp.models import UserSession
from idp.protection import attempts
from tests import factories
from tests.conftest import POSTGRES_URL
from tests.postgres.test_concurrency import PARALLEL, SLUG, counter, events
from tests.security.visitor import Visitor

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="tests/postgres races on PostgreSQL")

CLIENT_IP = "127.0.0.1"  # the live server's visitors
INVALID = "Invalid username or password."
THROTTLED = "Too many failed attempts"


def passwords_in_parallel(live_server, usernames: list[str], password: str) -> Counter:
    """One browser per name, each at the password stage, sends the password at one moment."""
    visitors = [Visitor(live_server) for _ in usernames]
    for visitor, username in zip(visitors, usernames, strict=True):
        visitor.open(SLUG)
        visitor.submit(SLUG, {"uid_field": username})
        assert visitor.stage == "password"
    barrier = threading.Barrier(len(visitors), timeout=60)

    def send(visitor):
        barrier.wait()
        response = visitor.submit(SLUG, {"password": password})
        if response.status_code == 400 and INVALID in visitor.text:
            return "weighed"
        if response.status_code == 400 and THROTTLED in visitor.text:
            return "throttled"
        if response.status_code == 303 and not response.headers["Location"].startswith("/flow/"):
            return "signed in"
        return f"{response.status_code} {visitor.text[:200]}"

    try:
        with ThreadPoolExecutor(max_workers=len(visitors)) as pool:
            return Counter(pool.map(send, visitors))
    finally:
        for visitor in visitors:
            visitor.close()


def make_users(app, count: int) -> list[str]:
    with app.app_context():
        return [
            factories.make_user(username=factories.unique("Racer")).username for _ in range(count)
        ]


def sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession))


def test_fifty_wrong_passwords_are_each_counted_once_on_sqlite(app, live_server):
    app.config.update(
        LOGIN_FREE_ATTEMPTS=1000, LOGIN_FREE_ATTEMPTS_PER_IP=1000, LOGIN_PROOF_AFTER=1000
    )
    (username,) = make_users(app, 1)

    outcomes = passwords_in_parallel(live_server, [username] * PARALLEL, "wrong password")

    assert outcomes == {"weighed": PARALLEL}, outcomes
    with app.app_context():
        account = factories.account_of(username)
    assert counter(app, attempts.ACCOUNT, account) == PARALLEL
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == PARALLEL
    assert events(app, "login_failed") == PARALLEL


def test_fifty_wrong_passwords_get_exactly_the_threshold_of_guesses_on_sqlite(app, live_server):
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    (username,) = make_users(app, 1)

    outcomes = passwords_in_parallel(live_server, [username] * PARALLEL, "wrong password")

    assert outcomes == {"weighed": free, "throttled": PARALLEL - free}, outcomes
    with app.app_context():
        account = factories.account_of(username)
    assert counter(app, attempts.ACCOUNT, account) == free
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == free
    assert events(app, "login_failed") == free
    assert events(app, "login_throttled") == PARALLEL - free


def test_fifty_users_signing_in_at_once_each_get_one_session_on_sqlite(app, live_server):
    # Fifty people behind one address (an office): their right passwords take the IP's slot
    # and give it back, so the per-IP limit must leave room for fifty in flight.
    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=PARALLEL)
    usernames = make_users(app, PARALLEL)

    outcomes = passwords_in_parallel(live_server, usernames, factories.PASSWORD)

    assert outcomes == {"signed in": PARALLEL}, outcomes
    assert sessions(app) == PARALLEL
    assert events(app, "login") == PARALLEL
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) in (None, 0)


def test_the_failed_attempt_counter_is_committed_before_the_password_hash_runs(
    app, live_server, monkeypatch
):
    # While the hash runs, another connection sees the count and can take the write lock:
    # the hash holds no lock, and nothing later in the request can take the count back.
    (username,) = make_users(app, 1)
    with app.app_context():
        account = factories.account_of(username)
        engine = db.engine
    seen = {}
    real_check = password_checks.check_password

    def observed_check(password, password_hash):
        with engine.connect() as other:
            seen["failures"] = counter(app, attempts.ACCOUNT, account)
            other.exec_driver_sql("UPDATE failed_attempts SET failures = failures WHERE 0")
            other.commit()
        return real_check(password, password_hash)

    monkeypatch.setattr(password_checks, "check_password", observed_check)
    outcomes = passwords_in_parallel(live_server, [username], "wrong password")

    assert outcomes == {"weighed": 1}
    assert seen == {"failures": 1}
