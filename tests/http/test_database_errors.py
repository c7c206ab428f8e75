"""Every way the database can be out of reach answers the same clean 503 page."""

import pytest
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from idp.flows import executor

UNAVAILABLE = "Gatehouse cannot reach its database right now."


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("connection refused")),
        InterfaceError("SELECT 1", {}, Exception("connection already closed")),
        PoolTimeout("QueuePool limit of size 10 overflow 10 reached, timed out"),
    ],
    ids=["refused-or-lost", "closed-connection", "pool-exhausted"],
)
def test_an_unreachable_database_answers_a_clean_503(client, monkeypatch, error):
    def unreachable(slug):
        raise error

    monkeypatch.setattr(executor, "load_running_flow", unreachable)
    response = client.get("/flow/default-authentication-flow/")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert UNAVAILABLE in body
    assert "Traceback" not in body and "QueuePool" not in body and "refused" not in body
