"""applications.id is never reused on SQLite (AUTOINCREMENT)

An authorization flow's plan names the application it runs for by id. Without
AUTOINCREMENT, SQLite gives a deleted application's id to the next one made, and a consent
page left open on the deleted application would, once agreed to, remember the consent for
that next application, which then let the user in without asking. PostgreSQL's sequences
never reuse an id.

Revision ID: d7a3c5e9f2b4
Revises: c2e6a9d4b7f1
Create Date: 2026-12-06 12:30:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d7a3c5e9f2b4"
down_revision = "c2e6a9d4b7f1"
branch_labels = None
depends_on = None


def _rebuild_applications(autoincrement: bool):
    # Only a new CREATE TABLE can say AUTOINCREMENT: a batch copy of the table.
    with op.batch_alter_table(
        "applications", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
    ):
        pass


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_applications(autoincrement=True)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_applications(autoincrement=False)
