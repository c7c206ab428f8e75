"""applications.id is never reused on SQLite (AUTOINCREMENT)

An authorization flow's plan names the application it runs for by id. Without
AUTOINCREMENT, SQLite gives a deleted application's id to the next one made, and a consent
page left open on the deleted application would, once agreed to, remember the consent for
that next application, which then let the user in without asking. PostgreSQL's sequences
never reuse an id.

Rows still naming an application that was deleted before delete_application followed the
ON DELETE rules (tokens, consents, bindings...) are deleted first, as PostgreSQL would have:
the sequence goes on from the highest id left, which could otherwise be theirs.

Revision ID: d7a3c5e9f2b4
Revises: c2e6a9d4b7f1
Create Date: 2026-12-06 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# The tables whose application_id is ON DELETE CASCADE.
NAMING_AN_APPLICATION = (
    "authorization_requests",
    "consents",
    "oauth2_authorization_codes",
    "oauth2_session_applications",
    "oauth2_tokens",
    "policy_bindings",
    "providers",
)

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
        applications = sa.table("applications", sa.column("id"))
        for name in NAMING_AN_APPLICATION:
            child = sa.table(name, sa.column("application_id"))
            op.execute(
                child.delete().where(
                    child.c.application_id.is_not(None),
                    child.c.application_id.not_in(sa.select(applications.c.id)),
                )
            )
        _rebuild_applications(autoincrement=True)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_applications(autoincrement=False)
