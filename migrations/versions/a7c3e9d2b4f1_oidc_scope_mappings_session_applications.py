"""OpenID Connect: admin-defined scope mappings, the applications a session signed in to
(back-channel logout), and the address a user proved (email_verified)

Revision ID: a7c3e9d2b4f1
Revises: f1a2b3c4d5e6
Create Date: 2026-12-03 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c3e9d2b4f1'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth2_scope_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('expression', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth2_scope_mappings')),
    sa.UniqueConstraint('name', name=op.f('uq_oauth2_scope_mappings_name'))
    )
    op.create_table('oauth2_session_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sa.String(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_oauth2_session_applications_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['user_sessions.id'], name=op.f('fk_oauth2_session_applications_session_id_user_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth2_session_applications')),
    sa.UniqueConstraint('session_id', 'application_id', name='uq_oauth2_session_applications')
    )
    with op.batch_alter_table('oauth2_session_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth2_session_applications_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_session_applications_session_id'), ['session_id'], unique=False)

    # Nothing recorded whether an existing address was ever proved: it starts unverified, and
    # an administrator who saves the account (or its owner, through a mailed link) proves it.
    op.add_column('users', sa.Column('verified_email', sa.String(length=254), nullable=True))


def downgrade():
    op.drop_column('users', 'verified_email')

    with op.batch_alter_table('oauth2_session_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth2_session_applications_session_id'))
        batch_op.drop_index(batch_op.f('ix_oauth2_session_applications_application_id'))

    op.drop_table('oauth2_session_applications')
    op.drop_table('oauth2_scope_mappings')
