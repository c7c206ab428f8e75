"""Fifty sign-ups at once for one username, or for one address, on PostgreSQL: one account,
and every other visitor a clear answer (no 500, no second account, no stray rows).

Every thread has already passed every check when it reaches the insert (a barrier holds them
just before it), so the unique indexes alone decide, which is the race under real load.
"""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import FlowToken, PasswordHistory, User
from idp.stages.user_write import stage as user_write_stage
from tests.conftest import POSTGRES_URL, FlowDriver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
    pytest.mark.usefixtures("many_postgres_connections"),
]

ENROLLMENT = "default-enrollment-flow"
PARALLEL = 50
PASSWORD = "violet kettle marches north"
TAKEN = "This username is taken."


@pytest.fixture
def app_settings():
    # Every request holds its connection while it waits at the barrier.
    return {"ENVIRON": {"IDP_DATABASE_POOL_SIZE": str(PARALLEL // 2 + 1)}}


def held_at_the_insert(monkeypatch, parties: int) -> None:
    """Hold every sign-up just before its insert until all `parties` are there."""
    barrier = threading.Barrier(parties, timeout=60)
    release = user_write_stage.release

    def release_together(username, email):
        barrier.wait()
        return release(username, email)

    monkeypatch.setattr(user_write_stage, "release", release_together)


@pytest.fixture
def all_at_the_insert(monkeypatch):
    held_at_the_insert(monkeypatch, PARALLEL)


def at_the_prompt(app) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.open(ENROLLMENT)
    assert driver.stage == "prompt"
    return driver


def sign_up_together(app, answers: list[dict]) -> list[tuple[int, FlowDriver]]:
    drivers = [at_the_prompt(app) for _ in answers]
    with ThreadPoolExecutor(max_workers=len(drivers)) as pool:
        futures = [
            pool.submit(driver.submit, ENROLLMENT, {**data, "password_repeat": data["password"]})
            for driver, data in zip(drivers, answers, strict=True)
        ]
        statuses = [future.result(timeout=120).status_code for future in futures]
    return list(zip(statuses, drivers, strict=True))


def rows(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_fifty_sign_ups_for_one_username_make_one_account(app, all_at_the_insert):
    answers = [
        {"username": "popular", "email": f"fan{number}@example.test", "password": PASSWORD}
        for number in range(PARALLEL)
    ]

    results = sign_up_together(app, answers)

    assert sorted(status for status, _ in results) == [303] + [400] * (PARALLEL - 1)
    stages = sorted(driver.stage for _, driver in results)
    assert stages == ["email"] + ["prompt"] * (PARALLEL - 1)
    # The 49 see the form again with their answers and the error at the username field.
    refused = [driver for _, driver in results if driver.stage == "prompt"]
    assert all(TAKEN in driver.text for driver in refused)
    assert all('id="username-errors"' in driver.page for driver in refused)
    assert all('value="fan' in driver.page for driver in refused)
    with app.app_context():
        (account,) = db.session.scalars(select(User))
        assert account.username == "popular" and not account.is_active
    winner = next(driver for _, driver in results if driver.stage == "email")
    assert account.email in winner.text
    # Nothing half-written by the 49 that lost: one link, no password history.
    assert rows(app, FlowToken) == 1
    assert rows(app, PasswordHistory) == 0


def test_fifty_sign_ups_for_one_address_make_one_account_and_all_look_alike(app, all_at_the_insert):
    answers = [
        {"username": f"claimant{number}", "email": "shared@example.test", "password": PASSWORD}
        for number in range(PARALLEL)
    ]

    results = sign_up_together(app, answers)

    assert {status for status, _ in results} == {303}
    assert {driver.stage for _, driver in results} == {"email"}
    assert all("shared@example.test" in driver.text for _, driver in results)
    with app.app_context():
        (account,) = db.session.scalars(select(User))
        assert account.email == "shared@example.test" and not account.is_active
    assert rows(app, PasswordHistory) == 0


def test_two_sign_ups_at_once_with_names_that_read_alike_make_one_account(app, monkeypatch):
    """ "straße" and "STRASSE" differ to lower() but read alike: both pass the check, and the
    unique key lets one in; the other is told the name is taken, beside its field."""
    held_at_the_insert(monkeypatch, 2)
    answers = [
        {"username": username, "email": f"{number}@example.test", "password": PASSWORD}
        for number, username in enumerate(("straße", "STRASSE"))
    ]

    results = sign_up_together(app, answers)

    assert sorted(status for status, _ in results) == [303, 400]
    (refused,) = [driver for _, driver in results if driver.stage == "prompt"]
    assert TAKEN in refused.text and 'id="username-errors"' in refused.page
    with app.app_context():
        (account,) = db.session.scalars(select(User))
        assert account.username_key == "strasse"
    assert rows(app, FlowToken) == 1
    assert rows(app, PasswordHistory) == 0
