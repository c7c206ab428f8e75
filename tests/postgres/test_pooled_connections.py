"""Connections to PostgreSQL: a pooled one the server closed is replaced before a request uses
it, a healthy one is used as it is, with no ping before each request, and a request reads
outside a transaction until its first write."""

import time

import pytest
import sqlalchemy as sa

from idp.core.extensions import db
from tests import factories
from tests.conftest import POSTGRES_URL, FlowDriver

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
]


def server_process_of_the_pooled_connection(app) -> int:
    with app.app_context():
        process = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        db.session.remove()
    return process


@pytest.fixture
def signed_in(app):
    with app.app_context():
        factories.make_user(username="alice")
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", factories.PASSWORD)
    return flows


def test_a_connection_the_server_closed_is_replaced_before_a_request_uses_it(app, signed_in):
    closed = server_process_of_the_pooled_connection(app)
    outside = sa.create_engine(POSTGRES_URL, poolclass=sa.pool.NullPool)
    with outside.connect() as connection:
        assert connection.scalar(sa.select(sa.func.pg_terminate_backend(closed)))
    outside.dispose()
    time.sleep(0.2)  # the server's goodbye reaches the pooled connection's socket

    assert signed_in.client.get("/me").status_code == 200
    assert server_process_of_the_pooled_connection(app) != closed


def test_a_healthy_connection_is_used_as_it_is_without_a_ping(app, signed_in, monkeypatch):
    with app.app_context():
        dialect = db.engine.pool._dialect  # the pool's: the one that would ping
    pings = []
    monkeypatch.setattr(dialect, "do_ping", lambda connection: pings.append(1) or True)
    process = server_process_of_the_pooled_connection(app)
    for _ in range(3):
        assert signed_in.client.get("/me").status_code == 200
    assert server_process_of_the_pooled_connection(app) == process
    assert pings == []


def transaction_states(app) -> list[tuple[str, str]]:
    """(first word, transaction status just after it ran) for each statement the app sends."""
    with app.app_context():
        engine = db.engine
    seen = []

    def note(connection, cursor, statement, *args):
        status = connection.connection.dbapi_connection.info.transaction_status
        seen.append((statement.split()[0].upper(), status.name))

    sa.event.listen(engine, "after_cursor_execute", note)
    return seen


def test_a_page_that_only_reads_opens_no_transaction(app, signed_in):
    seen = transaction_states(app)
    assert signed_in.client.get("/me").status_code == 200
    assert seen and {word for word, _ in seen} == {"SELECT"}
    assert {status for _, status in seen} == {"IDLE"}


def test_writes_run_in_a_transaction_and_the_reads_before_them_in_none(app):
    with app.app_context():
        factories.make_user(username="bob")
    flows = FlowDriver(app.test_client())
    seen = transaction_states(app)
    flows.sign_in("bob", factories.PASSWORD)
    writes = [(word, status) for word, status in seen if word != "SELECT"]
    assert {"INSERT", "UPDATE"} <= {word for word, _ in writes}
    assert {status for _, status in writes} == {"INTRANS"}
    assert ("SELECT", "IDLE") in seen[: seen.index(writes[0])]  # the reads before it: none


def test_sql_written_by_hand_begins_a_transaction_unless_the_connection_asks_for_autocommit(app):
    """Only a SELECT that SQLAlchemy compiled counts as a plain read: text() may lock or write."""
    with app.app_context():
        db.session.execute(sa.text("SELECT 1"))
        raw = db.session.connection().connection.dbapi_connection
        assert raw.info.transaction_status.name == "INTRANS"
        db.session.rollback()
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            connection.execute(sa.text("SELECT 1"))
            assert connection.connection.dbapi_connection.info.transaction_status.name == "IDLE"
        db.session.remove()
