"""applications, their providers and bindings; the authorization designation; consents per
application

Revision ID: d4e8a1b2c3f7
Revises: d3f8a61b9c20
Create Date: 2026-12-02 17:00:00.000000

"""
import warnings

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4e8a1b2c3f7'
down_revision = 'd3f8a61b9c20'
branch_labels = None
depends_on = None

OLD_DESIGNATIONS = (
    "designation IN ('authentication', 'invalidation', 'enrollment', 'unenrollment', "
    "'recovery', 'stage_configuration')"
)
NEW_DESIGNATIONS = (
    "designation IN ('authentication', 'invalidation', 'enrollment', 'unenrollment', "
    "'recovery', 'stage_configuration', 'authorization')"
)
TWO_TARGETS = (
    "(CASE WHEN flow_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN stage_binding_id IS NULL THEN 0 ELSE 1 END) = 1"
)
THREE_TARGETS = (
    "(CASE WHEN flow_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN stage_binding_id IS NULL THEN 0 ELSE 1 END) + "
    "(CASE WHEN application_id IS NULL THEN 0 ELSE 1 END) = 1"
)


def upgrade():
    with warnings.catch_warnings():
        # Batch mode reflects the tables these reference (users, with its expression-based
        # indexes SQLite cannot reflect); the indexes are not touched here.
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        _upgrade()


def downgrade():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Skipped unsupported reflection", sa.exc.SAWarning)
        _downgrade()


def _upgrade():
    op.create_table('applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=100), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('launch_url', sa.String(length=2000), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('icon', sa.String(length=2000), nullable=False),
    sa.Column('policy_engine_mode', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("policy_engine_mode IN ('any', 'all')", name=op.f('ck_applications_policy_engine_mode')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('slug', name=op.f('uq_applications_slug'))
    )
    op.create_table('providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=True),
    sa.Column('client_secret_hash', sa.String(length=200), nullable=True),
    sa.Column('authorization_flow_id', sa.Integer(), nullable=False),
    sa.Column('authentication_flow_id', sa.Integer(), nullable=True),
    sa.Column('invalidation_flow_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_providers_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['authentication_flow_id'], ['flows.id'], name=op.f('fk_providers_authentication_flow_id_flows'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['authorization_flow_id'], ['flows.id'], name=op.f('fk_providers_authorization_flow_id_flows'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['invalidation_flow_id'], ['flows.id'], name=op.f('fk_providers_invalidation_flow_id_flows'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_providers')),
    sa.UniqueConstraint('application_id', name=op.f('uq_providers_application_id')),
    sa.UniqueConstraint('client_id', name=op.f('uq_providers_client_id'))
    )
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_providers_authentication_flow_id'), ['authentication_flow_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_providers_authorization_flow_id'), ['authorization_flow_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_providers_invalidation_flow_id'), ['invalidation_flow_id'], unique=False)

    op.create_table('authorization_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('parameters', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('flow_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['applications.id'], name=op.f('fk_authorization_requests_application_id_applications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_authorization_requests_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_authorization_requests')),
    sa.UniqueConstraint('handle', name=op.f('uq_authorization_requests_handle'))
    )
    with op.batch_alter_table('authorization_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_authorization_requests_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_authorization_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_authorization_requests_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('policy_bindings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_policy_bindings_application_id'), ['application_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_policy_bindings_application_id_applications'), 'applications', ['application_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_constraint(op.f('ck_policy_bindings_one_target'), type_='check')
        batch_op.create_check_constraint(op.f('ck_policy_bindings_one_target'), THREE_TARGETS)

    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_flows_designation'), type_='check')
        batch_op.create_check_constraint(op.f('ck_flows_designation'), NEW_DESIGNATIONS)

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('application_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('scopes', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_consents_application_id'), ['application_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_consents_application_id_applications'), 'applications', ['application_id'], ['id'], ondelete='CASCADE')
    op.execute("UPDATE consents SET scopes = '[]'")
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.alter_column('scopes', existing_type=sa.JSON(), nullable=False)


def _downgrade():
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consents_application_id_applications'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_consents_application_id'))
        batch_op.drop_column('scopes')
        batch_op.drop_column('application_id')
    op.execute("DELETE FROM flows WHERE designation = 'authorization'")
    with op.batch_alter_table('flows', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_flows_designation'), type_='check')
        batch_op.create_check_constraint(op.f('ck_flows_designation'), OLD_DESIGNATIONS)
    op.execute("DELETE FROM policy_bindings WHERE application_id IS NOT NULL")
    with op.batch_alter_table('policy_bindings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_policy_bindings_one_target'), type_='check')
        batch_op.create_check_constraint(op.f('ck_policy_bindings_one_target'), TWO_TARGETS)
        batch_op.drop_constraint(batch_op.f('fk_policy_bindings_application_id_applications'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_policy_bindings_application_id'))
        batch_op.drop_column('application_id')
    op.drop_table('authorization_requests')
    op.drop_table('providers')
    op.drop_table('applications')
