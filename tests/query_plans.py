"""The statements a request sends, and SQLite's plan for one of them: to check that a page
reads through an index rather than a pass over every row."""

from contextlib import contextmanager

from sqlalchemy import event


@contextmanager
def statements_sent(engine):
    """Every statement sent on `engine` meanwhile, with its parameters."""
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def sqlite_plan(engine, statement: str, parameters) -> list[str]:
    """The steps of SQLite's EXPLAIN QUERY PLAN for the statement, as words."""
    with engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [row[-1] for row in plan]
