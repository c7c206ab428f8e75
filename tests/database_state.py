"""What the database holds, to prove that a refused request changed nothing."""

from sqlalchemy import func, select

from idp.core.extensions import db

# Touched by any signed-in request, at most once a minute: not a change the request made.
VOLATILE_COLUMNS = {("user_sessions", "last_seen_at")}


def table_rows(app) -> dict[str, list[str]]:
    """Every row of every table, as text, in a stable order."""
    with app.app_context():
        state = {}
        for table in db.metadata.sorted_tables:
            columns = [
                column
                for column in table.columns
                if (table.name, column.name) not in VOLATILE_COLUMNS
            ]
            rows = db.session.execute(select(*columns)).all()
            state[table.name] = sorted(repr(tuple(row)) for row in rows)
        db.session.rollback()
        return state


def row_counts(app) -> dict[str, int]:
    """The number of rows of every table, in one statement (the fuzz tests ask often)."""
    tables = db.metadata.sorted_tables
    counts = select(
        *(select(func.count()).select_from(table).scalar_subquery() for table in tables)
    )
    with app.app_context():
        row = db.session.execute(counts).one()
        db.session.rollback()
    return {table.name: count for table, count in zip(tables, row, strict=True)}
