"""The embedded default holds under a burst: fifty browsers at once on SQLite, against the
served app, at a realistic bcrypt cost. No request gets a 5xx, and an attacker's burst of
guesses gets no more than the threshold (tests/http/*_sqlite.py check the exact counts)."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import POSTGRES_URL
from tests.security.visitor import AUTH

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="SQLite is what this file tests")

PARALLEL = 50


def at_once(visitors, action) -> Counter:
    barrier = threading.Barrier(len(visitors), timeout=60)

    def run(visitor):
        barrier.wait()
        return action(visitor)

    with ThreadPoolExecutor(max_workers=len(visitors)) as pool:
        return Counter(pool.map(run, visitors))


def test_a_burst_of_guesses_on_sqlite_gets_the_threshold_and_no_server_error(
    app, alice, new_visitor
):
    visitors = [new_visitor() for _ in range(PARALLEL)]
    for visitor in visitors:
        visitor.open(AUTH)
        visitor.submit(AUTH, {"uid_field": "alice"})

    def guess(visitor):
        response = visitor.submit(AUTH, {"password": "guess"})
        if response.status_code >= 500:
            return "server error"
        return "weighed" if "Invalid username or password." in visitor.text else "held back"

    outcomes = at_once(visitors, guess)

    assert outcomes == {
        "weighed": app.config["LOGIN_FREE_ATTEMPTS"],
        "held back": PARALLEL - app.config["LOGIN_FREE_ATTEMPTS"],
    }


def test_a_burst_of_sign_ups_on_sqlite_gets_no_server_error(new_visitor):
    visitors = [new_visitor() for _ in range(PARALLEL)]
    for visitor in visitors:
        visitor.open("default-enrollment-flow")
    password = "violet kettle marches north"

    def sign_up(visitor):
        number = visitors.index(visitor)
        response = visitor.submit(
            "default-enrollment-flow",
            {
                "username": f"burst{number}",
                "email": f"burst{number}@example.test",
                "password": password,
                "password_repeat": password,
            },
        )
        return "server error" if response.status_code >= 500 else visitor.stage

    assert at_once(visitors, sign_up) == {"email": PARALLEL}
