"""users.username_key unique: two sign-ups at once with names that read alike make one account

Revision ID: e2a9c4f7b1d3
Revises: a9d2e6c4b8f1
Create Date: 2026-12-06 20:30:00.000000

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2a9c4f7b1d3'
down_revision = 'a9d2e6c4b8f1'
branch_labels = None
depends_on = None

KEY_LENGTH = 600
BATCH = 1000
# What sets the key of a later account apart when an older one reads the same: U+00A8
# DIAERESIS, which NFKC always rewrites (as a space and a combining mark), so no key, NFKC
# last, ever holds it. It is one character of Latin-1 too: a PostgreSQL database in that
# encoding stores it, where it could not store U+0000 (no PostgreSQL text holds that).
APART = '\u00a8'

users = sa.table(
    'users',
    sa.column('id', sa.Integer),
    sa.column('username', sa.String),
    sa.column('username_key', sa.String),
)


def _key(username):
    # idp.models.users.username_key as it is today: a migration does not follow later code.
    folded = unicodedata.normalize('NFKC', unicodedata.normalize('NFKC', username).casefold())
    return folded[:KEY_LENGTH]


def _apart(key, row_id):
    """A key no real key nor any other account's equals: the key, APART, then the id."""
    suffix = f'{APART}{row_id}'
    return key[: KEY_LENGTH - len(suffix)] + suffix


def _rekey(connection, changes):
    keyed = (
        users.update()
        .where(users.c.id == sa.bindparam('row_id'))
        .values(username_key=sa.bindparam('new_key'))
    )
    for start in range(0, len(changes), BATCH):
        connection.execute(keyed, changes[start : start + BATCH])


def upgrade():
    """Accounts of an older rule may share a key ("Straße" and "STRASSE"): the oldest keeps
    it, the later ones get one set apart. They sign in by username (lower()), not by key,
    and keep their key while their name keeps reading the same (User._keyed)."""
    connection = op.get_bind()
    shared = (
        sa.select(users.c.username_key)
        .where(users.c.username_key.is_not(None))
        .group_by(users.c.username_key)
        .having(sa.func.count() > 1)
    )
    rows = connection.execute(
        sa.select(users.c.id, users.c.username_key)
        .where(users.c.username_key.in_(shared))
        .order_by(users.c.username_key, users.c.id)
    ).all()
    kept, changes = set(), []
    for row_id, key in rows:
        if key in kept:
            changes.append({'row_id': row_id, 'new_key': _apart(key, row_id)})
        kept.add(key)
    _rekey(connection, changes)
    op.drop_index('ix_users_username_key', table_name='users')
    op.create_index('ix_users_username_key', 'users', ['username_key'], unique=True)


def downgrade():
    # The unique index goes first: the keys given back are shared again.
    op.drop_index('ix_users_username_key', table_name='users')
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(users.c.id, users.c.username).where(users.c.username_key.contains(APART))
    ).all()
    _rekey(connection, [{'row_id': row_id, 'new_key': _key(name)} for row_id, name in rows])
    op.create_index('ix_users_username_key', 'users', ['username_key'], unique=False)
