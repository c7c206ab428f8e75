"""Fifty sign-ups at once on SQLite, the laptop database, against a real threaded server.

SQLite lets one writer in at a time. Gatehouse reads outside a transaction and takes the
write lock with BEGIN IMMEDIATE at a request's first write (idp.core.extensions), so a writer that
finds the lock taken waits its turn instead of being refused: none of the fifty gets a 503,
and the results are exact. tests/postgres has the production race.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import FlowToken, PasswordHistory, Stage, User
from tests.conftest import POSTGRES_URL
from tests.security.visitor import Visitor

pytestmark = pytest.mark.skipif(bool(POSTGRES_URL), reason="tests/postgres races on PostgreSQL")

ENROLLMENT = "default-enrollment-flow"
PARALLEL = 50
PASSWORD = "violet kettle marches north"
TAKEN = "This username is taken."
MAIL_STAGE = "default-enrollment-email"


@pytest.fixture
def app(app):
    """All fifty browsers share one IP: the mail stage's per-IP hourly limit (20 by default)
    is raised to let every one of them get its link; the limit is tested on its own in
    tests/security/test_mail_limits.py."""
    with app.app_context():
        stage = db.session.scalar(select(Stage).where(Stage.name == MAIL_STAGE))
        stage.options = {**stage.options, "sends_per_hour_per_ip": PARALLEL}
        db.session.commit()
    return app


def sign_ups_in_parallel(live_server, username_of) -> Counter:
    """PARALLEL browsers send the sign-up form at the same moment; what each one saw."""
    visitors = [Visitor(live_server) for _ in range(PARALLEL)]
    for visitor in visitors:
        visitor.open(ENROLLMENT)
    barrier = threading.Barrier(PARALLEL, timeout=60)

    def sign_up(visitor, number):
        answers = {"username": username_of(number), "email": f"fan{number}@example.test"}
        barrier.wait()
        response = visitor.submit(
            ENROLLMENT, {**answers, "password": PASSWORD, "password_repeat": PASSWORD}
        )
        if response.status_code >= 500:
            return f"{response.status_code} {visitor.text[:200]}"
        if visitor.stage == "prompt" and TAKEN in visitor.text:
            return "taken"
        return f"{response.status_code} {visitor.stage}"

    try:
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            return Counter(pool.map(sign_up, visitors, range(PARALLEL)))
    finally:
        for visitor in visitors:
            visitor.close()


def stored(app) -> tuple[list[str], int, int]:
    with app.app_context():
        accounts = db.session.scalars(select(User.username)).all()
        links = db.session.scalar(select(func.count()).select_from(FlowToken))
        history = db.session.scalar(select(func.count()).select_from(PasswordHistory))
    return accounts, links, history


def test_fifty_sign_ups_for_one_username_make_exactly_one_account_on_sqlite(app, live_server):
    outcomes = sign_ups_in_parallel(live_server, lambda number: "popular")

    assert outcomes == {"303 email": 1, "taken": PARALLEL - 1}, outcomes
    accounts, links, history = stored(app)
    assert accounts == ["popular"]
    assert links == 1 and history == 0


def test_fifty_sign_ups_for_different_usernames_make_fifty_accounts_on_sqlite(app, live_server):
    outcomes = sign_ups_in_parallel(live_server, lambda number: f"newcomer{number}")

    assert outcomes == {"303 email": PARALLEL}, outcomes
    accounts, links, history = stored(app)
    assert sorted(accounts) == sorted(f"newcomer{number}" for number in range(PARALLEL))
    assert links == PARALLEL and history == 0
