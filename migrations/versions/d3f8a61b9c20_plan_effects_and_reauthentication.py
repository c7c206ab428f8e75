"""what a plan may do only once, and when a session last proved its user

Revision ID: d3f8a61b9c20
Revises: c7a1e2d4f5b6
Create Date: 2026-12-02 17:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "d3f8a61b9c20"
down_revision = "c7a1e2d4f5b6"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_effects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("effect", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("plan_id", "effect", name="uq_plan_effects_plan_effect"),
    )
    op.create_index("ix_plan_effects_created_at", "plan_effects", ["created_at"], unique=False)
    # Plain ADD/DROP COLUMN (SQLite has both): batch mode would copy the table for nothing.
    # Existing sessions keep NULL: they must prove their user again before adding a factor.
    op.add_column(
        "user_sessions", sa.Column("reauthenticated_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade():
    op.drop_column("user_sessions", "reauthenticated_at")
    op.drop_index("ix_plan_effects_created_at", table_name="plan_effects")
    op.drop_table("plan_effects")
