"""SQLite: rows left pointing at deleted rows, from before it enforced foreign keys, settled

Until SQLite enforced the foreign keys (PRAGMA foreign_keys, on since this release), a row
deleted in a race could leave rows that point at it: a policy binding naming a group that is
gone, say. SQLite reuses the highest id of a table without AUTOINCREMENT, so the next group
made would inherit that binding; and with the keys on, writing such a row fails. This does
what the keys would have done: a row whose key says ON DELETE CASCADE is deleted, one that
says SET NULL gets NULL, repeated until none is left (a deleted row's rows, then theirs). A
row whose key says RESTRICT (an application's flow, a binding's stage) is left as it is and
named in the log: deleting an application is not a migration's choice. PostgreSQL always
enforced the keys: nothing to do there.

Revision ID: f4c2a8e6b1d9
Revises: e2a9c4f7b1d3
Create Date: 2026-12-06 21:30:00.000000

"""

import logging

from alembic import op

# revision identifiers, used by Alembic.
revision = "f4c2a8e6b1d9"
down_revision = "e2a9c4f7b1d3"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")
# A chain of deleted rows is a few levels deep (application, binding, ...); this only bounds it.
MOST_PASSES = 20


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != "sqlite":
        return
    left = set()
    for _ in range(MOST_PASSES):
        settled = 0
        for table, rowid, parent, key_id in _orphans(connection):
            action, columns = _key(connection, table, key_id)
            if action == "CASCADE":
                connection.exec_driver_sql(f'DELETE FROM "{table}" WHERE rowid = ?', (rowid,))
            elif action == "SET NULL":
                assignments = ", ".join(f'"{column}" = NULL' for column in columns)
                connection.exec_driver_sql(
                    f'UPDATE "{table}" SET {assignments} WHERE rowid = ?', (rowid,)
                )
            else:
                left.add((table, rowid, parent))
                continue
            settled += 1
        if not settled:
            break
    for table, rowid, parent in sorted(left):
        log.warning("%s row %s points at a deleted row of %s; left as it is", table, rowid, parent)


def _orphans(connection) -> list:
    return connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()


def _key(connection, table: str, key_id: int) -> tuple[str, list[str]]:
    """ON DELETE and the columns of the table's foreign key `key_id`."""
    # PRAGMA foreign_key_list: id, seq, table, from, to, on_update, on_delete, match
    rows = [
        row
        for row in connection.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")')
        if row[0] == key_id
    ]
    return rows[0][6].upper(), [row[3] for row in sorted(rows, key=lambda row: row[1])]


def downgrade():
    pass  # what was deleted or set to NULL pointed at nothing
