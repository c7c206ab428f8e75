import select
import sys
from contextlib import contextmanager

import click
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import CompoundSelect, MetaData, Select, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

# Named constraints let Alembic's SQLite batch mode find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Model)
csrf = CSRFProtect()
login_manager = LoginManager()


def init_migrations(app, directory: str) -> None:
    """Flask-Migrate, set up when first used: Alembic (and Mako) cost a worker about 60
    modules it never needs to serve a request. `idp db …`, `idp setup` and flask_migrate's
    functions find what they expect in app.extensions["migrate"] and on app.cli."""
    app.extensions["migrate"] = _Migrations(app, directory)
    app.cli.add_command(_MigrationCommands("db", help="Alembic database migrations."))


class _Migrations:
    def __init__(self, app, directory: str):
        self._app = app
        # As flask_migrate's own config names it: read without setting Alembic up.
        self.directory = directory

    def __getattr__(self, name):
        from flask_migrate import Migrate

        Migrate().init_app(self._app, db, directory=self.directory, render_as_batch=True)
        return getattr(self._app.extensions["migrate"], name)


class _MigrationCommands(click.Group):
    @staticmethod
    def _commands():
        from flask_migrate.cli import db as commands

        return commands

    def list_commands(self, ctx):
        return self._commands().list_commands(ctx)

    def get_command(self, ctx, name):
        return self._commands().get_command(ctx, name)

    def parse_args(self, ctx, args):
        return self._commands().parse_args(ctx, args)

    def invoke(self, ctx):
        return self._commands().invoke(ctx)


def _is_sqlite(dbapi_connection) -> bool:
    # Asked of sys.modules: only a SQLite site loads sqlite3 (and libsqlite3) at all.
    sqlite3 = sys.modules.get("sqlite3")
    return sqlite3 is not None and isinstance(dbapi_connection, sqlite3.Connection)


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _sqlite_lower_folds_all_of_unicode(dbapi_connection, connection_record):
    """SQLite's own lower() folds ASCII only, so "Élodie" would never match "élodie" as it
    does on PostgreSQL and in Python. Every connection of the app uses this one instead,
    so the case-insensitive unique indexes stay consistent."""
    if _is_sqlite(dbapi_connection):
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


# SQLite lets one writer in at a time. A transaction that read first and writes later cannot
# wait its turn: when another writer got in between, SQLite refuses it at once ("database is
# locked"), whatever the busy timeout. So Gatehouse reads outside a transaction (each statement
# sees what is committed, as PostgreSQL's READ COMMITTED does) and takes the write lock with
# BEGIN IMMEDIATE at the first write; a writer that finds it taken waits up to the timeout.
SQLITE_BUSY_TIMEOUT_MS = 30_000
_SQLITE_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT")


@event.listens_for(Engine, "connect")
def _sqlite_waits_for_the_write_lock(dbapi_connection, connection_record):
    """WAL: readers never wait for the writer nor it for them. The driver's own transaction
    handling is switched off; _sqlite_writes_begin_immediate begins transactions instead."""
    if _is_sqlite(dbapi_connection):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")
        # Safe with WAL: a power cut may lose the last commits, never corrupt the file.
        dbapi_connection.execute("PRAGMA synchronous = NORMAL")
        # Off by default in SQLite: ON DELETE CASCADE / SET NULL / RESTRICT would be ignored,
        # and a row could point at one deleted beside it. PostgreSQL always enforces them.
        dbapi_connection.execute("PRAGMA foreign_keys = ON")


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_writes_begin_immediate(connection, cursor, statement, parameters, context, executemany):
    """The first write of a transaction takes the write lock before anything else.

    A SAVEPOINT counts as a write: outside a transaction it would start one of its own, and
    its RELEASE would commit the request's work on the spot. One request stays one
    transaction from its first write on, rolled back as a whole."""
    raw = connection.connection.dbapi_connection
    if (
        _is_sqlite(raw)
        and not raw.in_transaction
        and statement.lstrip()[:9].upper().startswith(_SQLITE_WRITES)
    ):
        cursor.execute("BEGIN IMMEDIATE")


# PostgreSQL likewise, on the app's own engine: psycopg runs in autocommit (POSTGRESQL_OPTIONS)
# and the first statement that is not a plain read begins the transaction. A page that only
# reads sends its statements alone, not between a BEGIN and a ROLLBACK (two round trips of the
# three most pages made), and keeps psycopg's prepared statements, which every ROLLBACK threw
# away. A plain read is a SELECT that SQLAlchemy compiled without a locking clause; anything
# else, SQL written out by hand (text(), driver SQL) included, begins the transaction. Other
# engines in autocommit (one that creates databases), and a connection that asks for
# autocommit itself (Alembic's autocommit_block), are left as they are. A streamed read
# (yield_per: a server-side cursor, as `idp users list` reads) begins one too: PostgreSQL
# declares such a cursor only inside a transaction.
POSTGRESQL_OPTIONS = {"isolation_level": "AUTOCOMMIT"}
# SQLAlchemy writes these clauses in capitals; a lock held until the transaction ends, too.
_LOCKING_CLAUSES = (
    " FOR UPDATE",
    " FOR NO KEY UPDATE",
    " FOR SHARE",
    " FOR KEY SHARE",
    "_xact_lock",
)
_PQTRANS_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open


def begin_postgresql_transactions_at_the_first_write(engine) -> None:
    event.listen(engine, "before_cursor_execute", _postgresql_writes_begin)


def _postgresql_writes_begin(connection, cursor, statement, parameters, context, executemany):
    raw = connection.connection.dbapi_connection
    if (
        raw.autocommit
        and raw.pgconn.transaction_status == _PQTRANS_IDLE
        and not _is_plain_read(statement, context)
        and connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT"
    ):
        # A server-side cursor would declare itself "FOR BEGIN": the connection sends it.
        (raw if context.execution_options.get("stream_results") else cursor).execute("BEGIN")


def _is_plain_read(statement: str, context) -> bool:
    if context.execution_options.get("stream_results"):
        return False
    return isinstance(
        getattr(context.compiled, "statement", None), Select | CompoundSelect
    ) and not any(clause in statement for clause in _LOCKING_CLAUSES)


@event.listens_for(Pool, "checkout")
def _replace_connections_the_server_closed(dbapi_connection, connection_record, proxy):
    """A pooled connection the database server has closed (a restart, a failover, an idle
    timeout) is replaced before it is used: the pool takes another on DisconnectionError.

    Seen without a round trip: an idle connection has nothing to read unless the server said
    goodbye (its last message, or the end of the stream). Asking the server each time
    (SQLAlchemy's pool_pre_ping) cost 0.4 ms of a worker's CPU per request, a sixth of a
    sign-in. A server gone without a word (a cut network) is found by the first statement,
    as a ping would have found it. SQLite has no server and no socket."""
    if _is_sqlite(dbapi_connection):
        return
    if dbapi_connection.closed or _has_something_to_read(dbapi_connection.fileno()):
        raise DisconnectionError("the database server closed this connection")


def _has_something_to_read(socket_number: int) -> bool:
    poller = select.poll()
    poller.register(socket_number, select.POLLIN)
    return bool(poller.poll(0))


def begin_sqlite_write(connection) -> None:
    """Take SQLite's write lock now, before a read that a later write depends on (is there an
    administrator yet?), as the first write would take it: until the commit no other
    connection writes, so two such transactions run one after the other."""
    raw = connection.connection.dbapi_connection
    if _is_sqlite(raw) and not raw.in_transaction:
        raw.execute("BEGIN IMMEDIATE")


@contextmanager
def sqlite_foreign_keys_off(connection):
    """SQLite's foreign keys off on this connection for the block (nothing elsewhere). Alembic's
    batch mode on SQLite copies a table into a new one and drops the old: with the keys on,
    that drop would cascade into (or be refused by) the tables pointing at it. SQLite ignores
    the pragma inside a transaction, so enter this before one begins."""
    raw = connection.connection.dbapi_connection
    if not _is_sqlite(raw):
        yield
        return
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")  # the pool hands this connection on
        if raw.in_transaction:  # left open by an error: the pragma did nothing
            connection.invalidate()


def is_sqlite_writing(connection) -> bool:
    """Whether this SQLite connection holds the write lock (it wrote in this transaction)."""
    raw = connection.connection.dbapi_connection
    return _is_sqlite(raw) and raw.in_transaction
