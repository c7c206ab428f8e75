"""Two OpenID Connect applications saved at the same moment on PostgreSQL: one current and
one next signing key, not a pair each. The second save waits for the first one's commit."""

import threading

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import SigningKey
from idp.providers.oauth2 import keys
from tests.conftest import POSTGRES_URL, empty_postgres_tables, make_test_app

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
]


@pytest.fixture
def app(tmp_path, postgres_database):
    app = make_test_app(tmp_path, postgres_database)
    empty_postgres_tables(postgres_database)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_keys_made_by_two_transactions_at_once_are_one_pair(app):
    second_done = threading.Event()

    def second_save():
        with app.app_context():
            keys.ensure_keys("ES256")
            db.session.commit()
        second_done.set()

    with app.app_context():
        keys.ensure_keys("ES256")  # the first save's transaction, not committed yet
        other = threading.Thread(target=second_save)
        other.start()
        # The second save waits for this transaction instead of making keys of its own.
        assert not second_done.wait(timeout=1.0)
        db.session.commit()
    other.join(timeout=10)
    assert second_done.is_set()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 2
