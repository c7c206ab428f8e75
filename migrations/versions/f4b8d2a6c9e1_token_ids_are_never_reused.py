"""oauth2_tokens.id is never reused on SQLite (AUTOINCREMENT)

A token that is revoked or dead is deleted when its user gets the next token at the same
application, right before that token is inserted. Without AUTOINCREMENT, SQLite gives the
new token the deleted one's id when it was the highest: a refresh then saved a row under the
id of a row it had loaded (SQLAlchemy's "Identity map already had an identity" warning), and
the admin's tokens tab, open on the deleted token, would revoke the new token's family.
PostgreSQL's sequences never reuse an id.

Revision ID: f4b8d2a6c9e1
Revises: f4c2a8e6b1d9
Create Date: 2026-12-06 21:30:00.000000

"""

import warnings

from alembic import op

# revision identifiers, used by Alembic.
revision = "f4b8d2a6c9e1"
down_revision = "f4c2a8e6b1d9"
branch_labels = None
depends_on = None


def _rebuild_tokens(autoincrement: bool):
    # Only a new CREATE TABLE can say AUTOINCREMENT: a batch copy of the table. Reading it
    # reads the tables its foreign keys name too, users among them, whose expression indexes
    # SQLite cannot reflect (a warning; the copy does not touch them).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(
            "oauth2_tokens",
            recreate="always",
            table_kwargs={"sqlite_autoincrement": autoincrement},
        ):
            pass


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_tokens(autoincrement=True)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_tokens(autoincrement=False)
