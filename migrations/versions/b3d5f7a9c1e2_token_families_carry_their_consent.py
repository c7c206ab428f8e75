"""token families carry the consent they were issued under

A consent agreed to again after it expired (or withdrawn and given again) revived the refresh
tokens issued under the earlier one. Each consent now names its agreement, and each token the
agreement it was issued under. Existing consents get a name of their own; existing tokens of a
user who has a consent to the application are taken to be issued under it (which one they
really were issued under is not known), the others under none.

Revision ID: b3d5f7a9c1e2
Revises: b5e2d7f4a9c1
Create Date: 2026-12-06 17:40:00.000000

"""

import warnings

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b3d5f7a9c1e2"
down_revision = "b5e2d7f4a9c1"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (SQLite has it): a batch copy of these tables would reflect users,
    # whose expression indexes SQLite cannot reflect.
    op.add_column("consents", sa.Column("agreement", sa.String(length=32), nullable=True))
    op.execute("UPDATE consents SET agreement = 'legacy-' || CAST(id AS VARCHAR(20))")
    op.add_column(
        "oauth2_tokens", sa.Column("consent_agreement", sa.String(length=32), nullable=True)
    )
    op.execute(
        "UPDATE oauth2_tokens SET consent_agreement = ("
        " SELECT consents.agreement FROM consents"
        " WHERE consents.user_id = oauth2_tokens.user_id"
        " AND consents.subject = 'application:'"
        " || CAST(oauth2_tokens.application_id AS VARCHAR(20))"
        ") WHERE user_id IS NOT NULL"
    )


def downgrade():
    # SQLite drops a column with a batch copy, which reflects users (see above): harmless.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based")
        with op.batch_alter_table("oauth2_tokens", schema=None) as batch_op:
            batch_op.drop_column("consent_agreement")
        with op.batch_alter_table("consents", schema=None) as batch_op:
            batch_op.drop_column("agreement")
