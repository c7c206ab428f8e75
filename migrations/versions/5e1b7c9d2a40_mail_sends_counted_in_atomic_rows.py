"""mails sent are counted in atomic rows per recipient, client IP and trusted device

Revision ID: 5e1b7c9d2a40
Revises: d4e8a1b2c3f7
Create Date: 2026-12-02 17:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5e1b7c9d2a40'
down_revision = 'd4e8a1b2c3f7'
branch_labels = None
depends_on = None


def upgrade():
    # Starts empty: links mailed in the hour before the upgrade are not counted again, so
    # for at most that hour an address may get up to twice its limit.
    op.create_table('mail_send_counts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('sends', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_send_counts')),
    sa.UniqueConstraint('scope', 'key', name='uq_mail_send_counts_scope_key')
    )


def downgrade():
    op.drop_table('mail_send_counts')
