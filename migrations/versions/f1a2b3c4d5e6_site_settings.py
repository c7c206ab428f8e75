"""settings an administrator changes while Gatehouse runs (sign-up open or closed)

Revision ID: f1a2b3c4d5e6
Revises: e5b7c9d1f3a2
Create Date: 2026-12-02 18:20:00.000000

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1a2b3c4d5e6'
down_revision = 'e5b7c9d1f3a2'
branch_labels = None
depends_on = None


def upgrade():
    # A key without a row has its default: sign-up is off on a fresh install.
    settings = op.create_table(
        'site_settings',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('value', sa.String(length=255), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_site_settings')),
    )
    # An install already in use had sign-up open (there was no setting): it stays open until
    # an administrator closes it, rather than closing under its users' feet.
    in_use = op.get_bind().execute(sa.text('SELECT count(*) FROM users')).scalar()
    if in_use:
        op.bulk_insert(
            settings,
            [{'key': 'enrollment', 'value': 'on', 'updated_at': datetime.now(timezone.utc)}],
        )


def downgrade():
    op.drop_table('site_settings')
