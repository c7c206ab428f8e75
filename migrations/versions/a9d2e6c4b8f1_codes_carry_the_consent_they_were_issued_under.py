"""authorization codes carry the consent they were issued under

The agreement a code's tokens were tied to was read when the code was exchanged, so a
consent withdrawn (or left to expire) and given again within the code's minute gave the code
the new agreement. Each code now names the agreement it was issued under, and is refused at
the token endpoint once that is no longer the standing one. Codes issued before live a
minute and are taken to be issued under none.

Revision ID: a9d2e6c4b8f1
Revises: c8e1f4a7b2d9
Create Date: 2026-12-06 20:40:00.000000

"""

import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a9d2e6c4b8f1"
down_revision = "c8e1f4a7b2d9"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite has it): a batch copy would reflect users, whose expression
    # indexes SQLite cannot reflect.
    op.add_column(
        "oauth2_authorization_codes",
        sa.Column("consent_agreement", sa.String(length=32), nullable=True),
    )


def downgrade():
    # SQLite drops a column with a batch copy, which reflects users (see above): harmless.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("oauth2_authorization_codes", schema=None) as batch_op:
            batch_op.drop_column("consent_agreement")
