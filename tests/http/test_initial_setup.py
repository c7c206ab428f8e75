import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import User
from tests.conftest import POSTGRES_URL, FlowDriver
from tests.factories import make_user

SETUP = "initial-setup"
ADMIN = {
    "username": "admin",
    "email": "admin@example.test",
    "password": "violet harbour lantern 58",
    "password_repeat": "violet harbour lantern 58",
}


def test_front_page_sends_the_first_visitor_to_initial_setup(client):
    response = client.get("/")
    # ... which ends by offering the new administrator a second factor.
    offer = "/me/second-factor?next=/admin/"
    location = urlsplit(response.headers["Location"])
    assert location.path == "/flow/initial-setup/"
    assert parse_qs(location.query) == {"next": [offer]}


def test_initial_setup_creates_a_superuser_and_signs_them_in(app, flows):
    flows.open(SETUP)
    assert 'value="admin"' in flows.page  # the suggested username
    flows.submit(SETUP, ADMIN)
    page = flows.client.get("/me").get_data(as_text=True)
    assert "admin@example.test" in page and "Administrator" in page
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert admin.is_superuser and admin.has_password


def test_initial_setup_refuses_to_run_once_an_admin_has_a_password(app, flows, client):
    with app.app_context():
        make_user("boss", superuser=True)
    response = flows.open(SETUP)
    assert response.status_code == 403
    assert "already set up" in flows.text
    assert client.get("/").headers["Location"] == "/login"


def test_initial_setup_still_runs_for_a_superuser_without_password(app, flows):
    with app.app_context():
        make_user("keyless", superuser=True, password=None)
    flows.open(SETUP)
    assert flows.stage == "prompt"


def test_initial_setup_cannot_be_finished_twice_from_two_tabs(app, flows, client):
    from tests.conftest import FlowDriver

    other = FlowDriver(app.test_client())
    flows.open(SETUP)
    other.open(SETUP)
    flows.submit(SETUP, ADMIN)
    other.submit(SETUP, {**ADMIN, "username": "intruder", "email": "i@example.test"})
    assert "already set up" in other.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "intruder")) is None


def test_the_new_admin_can_sign_in_through_login(app, flows):
    flows.open(SETUP)
    flows.submit(SETUP, ADMIN)
    flows.client.get("/logout", follow_redirects=True)
    flows.sign_in("admin", ADMIN["password"])
    assert flows.client.get("/me").status_code == 200


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("a", "at least 8 characters"),
        ("password1", "This password is too common."),
        ("admin-admin-admin", "Don't use your username in your password."),
    ],
)
def test_initial_setup_applies_sign_ups_password_rules(app, flows, password, message):
    flows.open(SETUP)
    response = flows.submit(SETUP, {**ADMIN, "password": password, "password_repeat": password})
    assert response.status_code == 400 and flows.stage == "prompt"
    assert message in flows.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "admin")) is None


@pytest.mark.skipif(bool(POSTGRES_URL), reason="tests/postgres/test_setup_race.py on PostgreSQL")
def test_four_setups_finished_at_once_on_sqlite_make_one_administrator(app):
    """SQLite lets one writer in at a time, but Gatehouse reads outside a transaction until
    its first write: the gate's check takes the write lock first, or all four pass it."""
    people = 4
    drivers = [FlowDriver(app.test_client()) for _ in range(people)]
    for driver in drivers:
        driver.open(SETUP)
    barrier = threading.Barrier(people, timeout=30)

    def finish(index):
        barrier.wait()
        answers = {**ADMIN, "username": f"admin{index}", "email": f"admin{index}@example.test"}
        return drivers[index].submit(SETUP, answers).status_code

    with ThreadPoolExecutor(people) as pool:
        statuses = sorted(pool.map(finish, range(people)))
    assert statuses == [303] + [403] * (people - 1)
    with app.app_context():
        assert len(db.session.scalars(select(User.id).where(User.is_superuser)).all()) == 1
