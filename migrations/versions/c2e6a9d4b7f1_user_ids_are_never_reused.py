"""users.id is never reused on SQLite (AUTOINCREMENT)

A plan cookie carries the id of the user it proved (pending_user_id). Without AUTOINCREMENT,
SQLite gives a deleted user's id to the next account made, and a plan that proved the deleted
user could go on to sign in as that next account. PostgreSQL's sequences never reuse an id.

Revision ID: c2e6a9d4b7f1
Revises: b8d4f2a6c1e3
Create Date: 2026-12-06 12:00:00.000000

"""

import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c2e6a9d4b7f1"
down_revision = "b8d4f2a6c1e3"
branch_labels = None
depends_on = None

FUNCTIONAL_INDEXES = (
    ("uq_users_username_lower", "lower(username)"),
    ("uq_users_email_lower", "lower(email)"),
)


def _rebuild_users(autoincrement: bool):
    # Only a new CREATE TABLE can say AUTOINCREMENT: a batch copy of the table. The copy
    # loses the expression indexes (SQLite cannot reflect them, and says so in a warning),
    # so they are made again.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table(
            "users", recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
    for name, expression in FUNCTIONAL_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
        op.create_index(name, "users", [sa.text(expression)], unique=True)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_users(autoincrement=True)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_users(autoincrement=False)
