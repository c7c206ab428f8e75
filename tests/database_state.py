"""What the database holds, to prove that a refused request changed nothing."""

from sqlalchemy import func, select

from idp.extensions import db

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
    with app.app_context():
        counts = {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
        db.session.rollback()
        return counts
