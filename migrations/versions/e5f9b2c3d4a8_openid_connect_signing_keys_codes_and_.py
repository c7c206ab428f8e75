"""OpenID Connect: signing keys, authorization codes and tokens

Revision ID: e5f9b2c3d4a8
Revises: d3b8f1a2c4e6
Create Date: 2026-12-02 17:13:49.768525

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5f9b2c3d4a8'
down_revision = 'd3b8f1a2c4e6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('oauth2_signing_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=8), nullable=False),
    sa.Column('sealed_private_key', sa.Text(), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signs_from', sa.DateTime(timezone=True), nullable=True),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth2_signing_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_oauth2_signing_keys_kid'))
    )
    with op.batch_alter_table('oauth2_signing_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth2_signing_keys_algorithm'), ['algorithm'], unique=False)

    op.create_table('oauth2_authorization_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('redirect_uri', sa.String(length=2000), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('nonce', sa.String(length=500), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_oauth2_authorization_codes_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['user_sessions.id'], name=op.f('fk_oauth2_authorization_codes_session_id_user_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth2_authorization_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth2_authorization_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_oauth2_authorization_codes_code_hash'))
    )
    with op.batch_alter_table('oauth2_authorization_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth2_authorization_codes_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_authorization_codes_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_authorization_codes_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_authorization_codes_user_id'), ['user_id'], unique=False)

    op.create_table('oauth2_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('code_id', sa.Integer(), nullable=True),
    sa.Column('family', sa.String(length=64), nullable=False),
    sa.Column('grant_type', sa.String(length=40), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('access_token_hash', sa.String(length=64), nullable=False),
    sa.Column('refresh_token_hash', sa.String(length=64), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('access_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('refresh_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('refresh_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_oauth2_tokens_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['code_id'], ['oauth2_authorization_codes.id'], name=op.f('fk_oauth2_tokens_code_id_oauth2_authorization_codes'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['user_sessions.id'], name=op.f('fk_oauth2_tokens_session_id_user_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_oauth2_tokens_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth2_tokens')),
    sa.UniqueConstraint('access_token_hash', name=op.f('uq_oauth2_tokens_access_token_hash')),
    sa.UniqueConstraint('refresh_token_hash', name=op.f('uq_oauth2_tokens_refresh_token_hash'))
    )
    with op.batch_alter_table('oauth2_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth2_tokens_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_tokens_code_id'), ['code_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_tokens_family'), ['family'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_tokens_issued_at'), ['issued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_tokens_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth2_tokens_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('oauth2_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth2_tokens_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth2_tokens_session_id'))
        batch_op.drop_index(batch_op.f('ix_oauth2_tokens_issued_at'))
        batch_op.drop_index(batch_op.f('ix_oauth2_tokens_family'))
        batch_op.drop_index(batch_op.f('ix_oauth2_tokens_code_id'))
        batch_op.drop_index(batch_op.f('ix_oauth2_tokens_application_id'))

    op.drop_table('oauth2_tokens')
    with op.batch_alter_table('oauth2_authorization_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth2_authorization_codes_user_id'))
        batch_op.drop_index(batch_op.f('ix_oauth2_authorization_codes_session_id'))
        batch_op.drop_index(batch_op.f('ix_oauth2_authorization_codes_created_at'))
        batch_op.drop_index(batch_op.f('ix_oauth2_authorization_codes_application_id'))

    op.drop_table('oauth2_authorization_codes')
    with op.batch_alter_table('oauth2_signing_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth2_signing_keys_algorithm'))

    op.drop_table('oauth2_signing_keys')
