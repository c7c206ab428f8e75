"""unconfirmed sign-ups remember the plan that made them, so they can lapse

Revision ID: c7a1e2d4f5b6
Revises: bbab5ee3fdde
Create Date: 2026-11-21 15:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7a1e2d4f5b6'
down_revision = 'bbab5ee3fdde'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD/DROP COLUMN (SQLite has both): batch mode would copy the table for nothing.
    # Existing inactive users keep NULL: they may have been disabled by an admin, so they are
    # never taken for lapsed sign-ups.
    op.add_column('users', sa.Column('signup_plan_hash', sa.String(length=64), nullable=True))


def downgrade():
    op.drop_column('users', 'signup_plan_hash')
