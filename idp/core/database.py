"""Small helpers over SQLAlchemy that the services share."""

from importlib import import_module

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from idp.core.extensions import begin_sqlite_write

# Dialects whose package has an INSERT with on_conflict_do_update/nothing.
_UPSERT_DIALECTS = frozenset({"postgresql", "sqlite"})


def upsert_for(bind):
    """The INSERT construct of the bind's dialect, which has on_conflict_do_update/nothing."""
    return upsert_for_dialect(bind.dialect.name)


def upsert_for_dialect(dialect_name: str):
    """Looked up by name: the engine has loaded its own dialect's package already, and the
    other one (2 MiB of a worker's memory for the PostgreSQL one) need not be."""
    if dialect_name not in _UPSERT_DIALECTS:
        raise KeyError(dialect_name)
    return import_module(f"sqlalchemy.dialects.{dialect_name}").insert


def refused_as_taken(error: IntegrityError) -> bool:
    """Whether a unique index or primary key refused the write (the name or key is taken),
    not a foreign key (the row it names is gone), NOT NULL or CHECK."""
    state = getattr(error.orig, "sqlstate", None)  # psycopg
    if state is not None:
        return state == "23505"
    return getattr(error.orig, "sqlite_errorname", "") in _SQLITE_TAKEN


def refused_as_missing(error: IntegrityError) -> bool:
    """Whether a foreign key refused the write: the row it points at was deleted meanwhile."""
    state = getattr(error.orig, "sqlstate", None)
    if state is not None:
        return state == "23503"
    return getattr(error.orig, "sqlite_errorname", "") == "SQLITE_CONSTRAINT_FOREIGNKEY"


_SQLITE_TAKEN = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


# Keys named in one IN list. PostgreSQL takes at most 65,535 parameters in one statement,
# and a year of a site can hold more rows than that for one purge, or one user's sessions.
KEYS_PER_STATEMENT = 10_000


def in_parts(keys) -> list[list]:
    """The keys in lists short enough for one IN each (KEYS_PER_STATEMENT)."""
    keys = list(keys)
    return [
        keys[start : start + KEYS_PER_STATEMENT]
        for start in range(0, len(keys), KEYS_PER_STATEMENT)
    ]


def hold_until_commit(session, key: int) -> None:
    """Wait for, then hold until this transaction ends, the lock named `key`: what two
    transactions check and then write (is there an administrator, are there signing keys)
    is done by one at a time. On PostgreSQL an advisory lock; SQLite runs one writer at a
    time, but Gatehouse reads outside a transaction there until its first write, so the
    write lock is taken now, before the check."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif dialect == "sqlite":
        begin_sqlite_write(session.connection())


def loaded_apart(session, load):
    """What `load(loader)` gives, loaded in a session of its own on `session`'s connection and
    transaction, closed at once: the objects are complete and belong to no session, so no
    commit expires them and the request's identity map (its signed-in user) is not touched.
    A worker keeps such objects for every request and thread: they are only read."""
    with Session(bind=session.connection(), autoflush=False) as loader:
        return load(loader)
