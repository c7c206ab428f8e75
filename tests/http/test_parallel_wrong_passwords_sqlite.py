"""Fifty wrong passwords at once on SQLite, the laptop database: the counters stay exact.

SQLite lets one writer in at a time; an attempt it cannot let in gets the clean "try again
shortly" page (503) and counts nowhere. Every attempt that was weighed is counted exactly
once. tests/postgres/test_concurrency.py has the production race.
"""

from collections import Counter

import pytest

from idp import attempts
from tests import factories
from tests.conftest import POSTGRES_URL
from tests.postgres.test_concurrency import (
    CLIENT_IP,
    PARALLEL,
    SLUG,
    counter,
    events,
    identified_driver,
    run_together,
)

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="tests/postgres races on PostgreSQL")

INVALID = "Invalid username or password."
THROTTLED = "Too many failed attempts"
TRY_AGAIN = "Please try again shortly."


def outcome(response, driver) -> str:
    if response.status_code == 503 and TRY_AGAIN in driver.text:
        return "try again"
    if response.status_code == 400 and INVALID in driver.text:
        return "weighed"
    if response.status_code == 400 and THROTTLED in driver.text:
        return "throttled"
    return f"{response.status_code} {driver.text[:200]}"


def wrong_passwords_in_parallel(app) -> tuple[str, Counter]:
    with app.app_context():
        username = factories.make_user(username=factories.unique("Parallel-User")).username
    drivers = [identified_driver(app, username) for _ in range(PARALLEL)]
    responses = run_together(
        [
            lambda driver=driver: driver.submit(SLUG, {"password": "wrong password"})
            for driver in drivers
        ]
    )
    outcomes = Counter(map(outcome, responses, drivers))
    with app.app_context():
        account = factories.account_of(username)
    return account, outcomes


def test_fifty_wrong_passwords_are_each_counted_once_on_sqlite(app):
    app.config.update(LOGIN_FREE_ATTEMPTS=1000, LOGIN_FREE_ATTEMPTS_PER_IP=1000)
    account, outcomes = wrong_passwords_in_parallel(app)

    weighed = outcomes.pop("weighed", 0)
    assert set(outcomes) <= {"try again"}, outcomes
    assert weighed > 0
    assert counter(app, attempts.ACCOUNT, account) == weighed
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == weighed
    assert events(app, "login_failed") == weighed


def test_fifty_wrong_passwords_get_no_more_guesses_than_the_threshold_on_sqlite(app):
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    account, outcomes = wrong_passwords_in_parallel(app)

    weighed = outcomes.pop("weighed", 0)
    assert set(outcomes) <= {"throttled", "try again"}, outcomes
    assert 0 < weighed <= free
    assert counter(app, attempts.ACCOUNT, account) == weighed
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == weighed
    assert events(app, "login_failed") == weighed
