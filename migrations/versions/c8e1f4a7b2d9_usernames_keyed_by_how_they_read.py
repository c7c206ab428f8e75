"""users.username_key: NFKC and case folded, so a new name that reads like a taken one is taken

Revision ID: c8e1f4a7b2d9
Revises: b3d5f7a9c1e2
Create Date: 2026-12-06 18:00:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c8e1f4a7b2d9'
down_revision = 'b3d5f7a9c1e2'
branch_labels = None
depends_on = None

KEY_LENGTH = 600
BATCH = 1000


def _key(username):
    # idp.models.users.username_key as it is today: a migration does not follow later code.
    folded = unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', username).casefold())
    return folded[:KEY_LENGTH]


# Not in batch mode: SQLite adds a plain nullable column in place, and a batch copy of `users`
# would lose its expression indexes (lower(username), lower(email)), which cannot be reflected.
def upgrade():
    op.add_column('users', sa.Column('username_key', sa.String(length=KEY_LENGTH), nullable=True))
    users = sa.table(
        'users',
        sa.column('id', sa.Integer),
        sa.column('username', sa.String),
        sa.column('username_key', sa.String),
    )
    connection = op.get_bind()
    keyed = (
        users.update()
        .where(users.c.id == sa.bindparam('row_id'))
        .values(username_key=sa.bindparam('new_key'))
    )
    last_id = 0
    while True:
        rows = connection.execute(
            sa.select(users.c.id, users.c.username)
            .where(users.c.id > last_id)
            .order_by(users.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            keyed, [{'row_id': row_id, 'new_key': _key(username)} for row_id, username in rows]
        )
        last_id = rows[-1][0]
    # Not unique: names of the older rule may share a key, and they keep signing in.
    op.create_index(op.f('ix_users_username_key'), 'users', ['username_key'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_users_username_key'), table_name='users')
    op.drop_column('users', 'username_key')
