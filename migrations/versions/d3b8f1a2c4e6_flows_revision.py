"""flows revision: one value every flow, stage, policy and binding write changes

Revision ID: d3b8f1a2c4e6
Revises: 5e1b7c9d2a40
Create Date: 2026-12-02 17:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3b8f1a2c4e6'
down_revision = '5e1b7c9d2a40'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'flows_revision',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_flows_revision')),
    )
    op.bulk_insert(table, [{'id': 1, 'revision': 'initial'}])


def downgrade():
    op.drop_table('flows_revision')
