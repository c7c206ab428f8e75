"""users.language: the language a user chose on /me (empty: the browser's)

Revision ID: b8d4f2a6c1e3
Revises: a7c3e9b1d2f4
Create Date: 2026-12-03 17:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8d4f2a6c1e3'
down_revision = 'a7c3e9b1d2f4'
branch_labels = None
depends_on = None


# Not in batch mode: SQLite adds and drops a plain nullable column in place, and a batch copy
# of `users` would lose its expression indexes (lower(username), lower(email)), which cannot
# be reflected. The same as the migrations that added verified_email and signup_plan_hash.
def upgrade():
    op.add_column('users', sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    op.drop_column('users', 'language')
