"""Parallel requests against one PostgreSQL database: counters and sessions stay exact.

Each thread has its own test client (its own cookie jar); every request runs in its own app
context, so each thread has its own database session and connection, as under gunicorn.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Event, FailedAttempts, UserSession
from idp.protection import attempts
from tests import factories
from tests.conftest import POSTGRES_URL, FlowDriver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
    pytest.mark.usefixtures("many_postgres_connections"),
]

SLUG = "default-authentication-flow"
PARALLEL = 50
CLIENT_IP = "203.0.113.20"


@pytest.fixture
def app(tmp_path, postgres_database):
    """The shared app fixture, with a pool for 50 simultaneous requests in one process: each
    holds a connection and briefly takes a second one for the failed-attempt counters. Pool
    and overflow together allow a few more than 50 connections (PostgreSQL allows 100)."""
    from tests.conftest import empty_postgres_tables, make_test_app

    app = make_test_app(
        tmp_path,
        postgres_database,
        ENVIRON={"IDP_DATABASE_POOL_SIZE": str(PARALLEL // 2 + 1)},
    )
    empty_postgres_tables(postgres_database)
    with app.app_context():
        factories.load_shipped_flows()
    yield app
    with app.app_context():
        db.engine.dispose()


def identified_driver(app, username: str) -> FlowDriver:
    """A fresh browser that has named the user and now sees the password stage."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = CLIENT_IP
    driver = FlowDriver(client)
    driver.open(SLUG)
    driver.submit(SLUG, {"uid_field": username})
    assert driver.stage == "password"
    return driver


def run_together(actions) -> list:
    """Start every action at the same moment (a barrier) and return their results."""
    barrier = threading.Barrier(len(actions), timeout=30)

    def run(action):
        barrier.wait()
        return action()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        futures = [pool.submit(run, action) for action in actions]
        return [future.result(timeout=120) for future in futures]


def counter(app, scope: str, key: str) -> int | None:
    with app.app_context():
        return db.session.scalar(
            select(FailedAttempts.failures).where(
                FailedAttempts.scope == scope, FailedAttempts.key == key
            )
        )


def wrong_passwords_in_parallel(app) -> tuple[str, list[FlowDriver]]:
    """PARALLEL browsers post a wrong password for one account at the same moment."""
    with app.app_context():
        username = factories.make_user(username=factories.unique("Parallel-User")).username
    drivers = [identified_driver(app, username) for _ in range(PARALLEL)]
    responses = run_together(
        [
            lambda driver=driver: driver.submit(SLUG, {"password": "wrong password"})
            for driver in drivers
        ]
    )
    assert [response.status_code for response in responses] == [400] * PARALLEL
    return username, drivers


def events(app, action: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Event).where(Event.action == action)
        )


def test_parallel_wrong_passwords_get_no_more_guesses_than_the_threshold(app):
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    username, drivers = wrong_passwords_in_parallel(app)

    weighed = [driver for driver in drivers if "Invalid username or password." in driver.text]
    throttled = [driver for driver in drivers if "Too many failed attempts" in driver.text]
    assert len(weighed) == free
    assert len(throttled) == PARALLEL - free
    with app.app_context():
        account = factories.account_of(username)
    assert counter(app, attempts.ACCOUNT, account) == free
    # An attempt that must wait counts nowhere: the IP saw only the weighed ones.
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == free
    assert events(app, "login_failed") == free
    assert events(app, "login_throttled") == PARALLEL - free


def test_parallel_wrong_passwords_under_the_threshold_are_each_counted_once(app):
    # No lost update: fifty failures at once are fifty in the counters and the audit log.
    app.config.update(
        LOGIN_FREE_ATTEMPTS=1000, LOGIN_FREE_ATTEMPTS_PER_IP=1000, LOGIN_PROOF_AFTER=1000
    )
    username, drivers = wrong_passwords_in_parallel(app)

    assert all("Invalid username or password." in driver.text for driver in drivers)
    with app.app_context():
        account = factories.account_of(username)
    assert counter(app, attempts.ACCOUNT, account) == PARALLEL
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == PARALLEL
    assert events(app, "login_failed") == PARALLEL


def test_a_plan_raced_with_the_right_password_signs_in_once(app):
    # The same cookie replayed in parallel (a stolen or double-submitted form): the plan may
    # start one session, never two.
    with app.app_context():
        user = factories.make_user()
        user_id, username = user.id, user.username
    driver = identified_driver(app, username)
    cookie = driver.client.get_cookie("gatehouse_session")
    clones = []
    for _ in range(4):
        clone = FlowDriver(app.test_client())
        clone.client.environ_base["REMOTE_ADDR"] = CLIENT_IP
        clone.client.set_cookie(cookie.key, cookie.value)
        clone.page = driver.page
        clones.append(clone)

    responses = run_together(
        [
            lambda clone=clone: clone.submit(SLUG, {"password": factories.PASSWORD})
            for clone in clones
        ]
    )

    assert sorted(response.status_code for response in responses) == [303, 403, 403, 403]
    with app.app_context():
        sessions = db.session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.user_id == user_id)
        )
    assert sessions == 1


def test_parallel_sign_ins_from_one_address_give_back_exactly_what_they_took(app):
    # Successes give the address's count back inside their own request's transaction, while
    # failures from the same address take counts in transactions of their own: all finish
    # (no deadlock, no lock wait left hanging), and the address keeps only the failures.
    app.config.update(LOGIN_FREE_ATTEMPTS_PER_IP=1000)
    half = PARALLEL // 2
    with app.app_context():
        names = [
            factories.make_user(username=factories.unique("Racer")).username
            for _ in range(PARALLEL)
        ]
    drivers = [identified_driver(app, name) for name in names]
    passwords = [factories.PASSWORD] * half + ["wrong password"] * (PARALLEL - half)

    responses = run_together(
        [
            lambda driver=driver, password=password: driver.submit(SLUG, {"password": password})
            for driver, password in zip(drivers, passwords, strict=True)
        ]
    )

    statuses = [response.status_code for response in responses]
    assert statuses == [303] * half + [400] * (PARALLEL - half)
    assert counter(app, attempts.CLIENT_IP, CLIENT_IP) == PARALLEL - half
    for name in names[:half]:
        with app.app_context():
            assert counter(app, attempts.ACCOUNT, factories.account_of(name)) is None
    assert events(app, "login_failed") == PARALLEL - half
