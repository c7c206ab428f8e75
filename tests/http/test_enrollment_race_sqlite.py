"""Fifty sign-ups at once for one username on SQLite, the laptop database: still one account.

SQLite lets one writer in at a time and refuses a second one outright when both read first,
so a few of the fifty get the clean "try again shortly" page (503) rather than the field
error. None gets a 500, and nothing is half written. tests/postgres has the production race.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import FlowToken, PasswordHistory, User
from tests.conftest import POSTGRES_URL, FlowDriver

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="tests/postgres races on PostgreSQL")

ENROLLMENT = "default-enrollment-flow"
PARALLEL = 50
PASSWORD = "violet kettle marches north"
TAKEN = "This username is taken."
TRY_AGAIN = "Please try again shortly."


def outcome(status: int, driver: FlowDriver) -> str:
    if status == 503 and TRY_AGAIN in driver.text:
        return "try again"
    if driver.stage == "prompt" and TAKEN in driver.text:
        return "taken"
    return f"{status} {driver.stage}"


def test_fifty_sign_ups_for_one_username_make_one_account_on_sqlite(app):
    drivers = [FlowDriver(app.test_client()) for _ in range(PARALLEL)]
    for driver in drivers:
        driver.open(ENROLLMENT)
    barrier = threading.Barrier(PARALLEL, timeout=60)

    def sign_up(driver, number):
        barrier.wait()
        answers = {"username": "popular", "email": f"fan{number}@example.test"}
        form = {**answers, "password": PASSWORD, "password_repeat": PASSWORD}
        return outcome(driver.submit(ENROLLMENT, form).status_code, driver)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        outcomes = Counter(pool.map(sign_up, drivers, range(PARALLEL)))

    with app.app_context():
        accounts = db.session.scalars(select(User.username)).all()
        links = db.session.scalar(select(func.count()).select_from(FlowToken))
        history = db.session.scalar(select(func.count()).select_from(PasswordHistory))
    # Even the first writer may be refused a lock; then nobody has the account, cleanly.
    assert accounts == ["popular"] * outcomes.pop("303 email", 0), outcomes
    assert set(outcomes) <= {"taken", "try again"}, outcomes
    assert links == len(accounts) and history == 0
