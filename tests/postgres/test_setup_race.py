"""Four people finish initial setup at the same moment: exactly one administrator."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import User
from tests import factories
from tests.conftest import POSTGRES_URL, FlowDriver, empty_postgres_tables, make_test_app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
]
PEOPLE = 4


@pytest.fixture
def app(tmp_path, postgres_database):
    app = make_test_app(
        tmp_path, postgres_database, ENVIRON={"IDP_DATABASE_POOL_SIZE": str(PEOPLE * 2)}
    )
    empty_postgres_tables(postgres_database)
    with app.app_context():
        factories.load_shipped_flows()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_simultaneous_setups_make_exactly_one_administrator(app):
    drivers = []
    for _ in range(PEOPLE):
        driver = FlowDriver(app.test_client())
        driver.open("initial-setup")
        drivers.append(driver)
    barrier = threading.Barrier(PEOPLE)
    password = "a long enough password 12345"

    def finish(index):
        barrier.wait()
        return (
            drivers[index]
            .submit(
                "initial-setup",
                {
                    "username": f"admin{index}",
                    "email": f"admin{index}@example.test",
                    "password": password,
                    "password_repeat": password,
                },
            )
            .status_code
        )

    with ThreadPoolExecutor(PEOPLE) as pool:
        statuses = sorted(pool.map(finish, range(PEOPLE)))
    assert statuses == [303] + [403] * (PEOPLE - 1)
    with app.app_context():
        superusers = db.session.scalars(select(User.username).where(User.is_superuser)).all()
    assert len(superusers) == 1
