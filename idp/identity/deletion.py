"""Deleting users with everything that belongs to them (the user_delete stage, lapsed
sign-ups), and applications (idp.applications.manage), flows (the admin) and authorization
codes (idp.providers.oauth2.purge) likewise.

Each foreign key's ON DELETE rule is carried out by the statements themselves as well: a
SQLite file written before Gatehouse turned SQLite's foreign keys on (idp/core/extensions.py)
may hold rows a key would have refused, and a reused user id must never inherit a deleted
user's sessions, groups or authenticators. The database does the same; doing it first is
harmless. New tables that point at users are followed without changes here.

A user that a policy binding names is never deleted: the binding would go with it (ON DELETE
CASCADE), and a flow, stage or application it alone guarded would open to everyone, since
nothing bound means no restriction. Callers ask `is_named_by_a_binding` first to say so.
The deletion holds the users before it asks again, and an administrator's binding holds the
user it names (idp.admin.flows.bindings.find_subject): whichever commits first, the other
sees it.
"""

from sqlalchemy import ColumnElement, Table, delete, exists, select, update

from idp.core.database import in_parts
from idp.core.extensions import begin_sqlite_write, db
from idp.flows.revision import new_revision
from idp.models import PolicyBinding, User


def named_by_a_binding() -> ColumnElement[bool]:
    """Users that a policy binding names as its subject."""
    return exists().where(PolicyBinding.user_id == User.id)


def is_named_by_a_binding(user: User) -> bool:
    return bool(db.session.scalar(select(named_by_a_binding()).where(User.id == user.id)))


def delete_user(user: User) -> int:
    return delete_users(User.id == user.id)


def delete_users(condition: ColumnElement) -> int:
    """Delete the users that match and no binding names, with what belongs to them; how
    many there were."""
    db.session.flush()  # rows added earlier in this request are caught by the rules too
    held = _held_users(condition)
    if not held:
        return 0  # no lock: a sign-up asks this of every new name
    # SQLite runs one writer at a time: its write lock, taken before the check, keeps a
    # binding from coming between the check and the deletion.
    begin_sqlite_write(db.session.connection())
    return delete_rows(User.__table__, unbound_users(condition, held))


def _held_users(condition: ColumnElement) -> set:
    """The ids of the users that match, held on PostgreSQL until the request ends: a binding
    that would name one waits, then finds it gone."""
    if db.session.scalar(select(User.id).where(condition).limit(1)) is None:
        return set()
    # Deleting users changes the flows revision (their bindings' labels); a rename changes it
    # before the user's row: taken in that order here too, so the two never wait for each
    # other.
    new_revision(db.session)
    return set(db.session.scalars(select(User.id).where(condition).with_for_update()))


def unbound_users(condition: ColumnElement, held: set) -> list:
    """Of the held users, those that still match and no binding names. A statement of its
    own, after the hold: PostgreSQL, having waited for a row a binding held, checks the row
    again but not a subquery of the same statement, and would miss the binding just
    committed."""
    rows = db.session.scalars(select(User.id).where(condition, ~named_by_a_binding()))
    return sorted(held.intersection(rows))


def delete_where(table: Table, condition: ColumnElement) -> int:
    """Delete the rows of `table` that match, following every ON DELETE rule that points at
    them; how many there were."""
    references = _references_to(table)
    if not references:
        return db.session.execute(delete(_target(table)).where(condition)).rowcount
    (key,) = table.primary_key.columns
    return delete_rows(table, list(db.session.scalars(select(key).where(condition))))


def delete_rows(table: Table, keys: list) -> int:
    """Delete the rows of `table` with these primary keys likewise; how many there were."""
    return sum(_delete_keys(table, some) for some in in_parts(keys))


def _delete_keys(table: Table, keys: list) -> int:
    for child, column, rule in _references_to(table):
        if rule == "CASCADE":
            delete_where(child, column.in_(keys))
        elif rule == "SET NULL":
            db.session.execute(
                update(_target(child)).where(column.in_(keys)).values({column.key: None})
            )
        # Any other rule: the database refuses the delete below, as the schema says.
    (key,) = table.primary_key.columns
    return db.session.execute(delete(_target(table)).where(key.in_(keys))).rowcount


def _references_to(table: Table) -> list:
    return [
        (child, key.parent, (key.ondelete or "").upper())
        for child in db.metadata.sorted_tables
        for key in child.foreign_keys
        if key.column.table is table
    ]


def _target(table: Table):
    """The mapped class when there is one, so objects already loaded in this session learn
    they are gone (an ORM-enabled statement), else the table itself."""
    for mapper in db.Model.registry.mappers:
        if mapper.local_table is table:
            return mapper.class_
    return table
