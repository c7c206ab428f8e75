import sqlite3

import click
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

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
        self._directory = directory

    def __getattr__(self, name):
        from flask_migrate import Migrate

        Migrate().init_app(self._app, db, directory=self._directory, render_as_batch=True)
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


def _unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


@event.listens_for(Engine, "connect")
def _sqlite_lower_folds_all_of_unicode(dbapi_connection, connection_record):
    """SQLite's own lower() folds ASCII only, so "Élodie" would never match "élodie" as it
    does on PostgreSQL and in Python. Every connection of the app uses this one instead,
    so the case-insensitive unique indexes stay consistent."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_savepoints_stay_inside_the_transaction(
    connection, cursor, statement, parameters, context, executemany
):
    """pysqlite begins a transaction only before its first INSERT, UPDATE or DELETE, so a
    SAVEPOINT issued first (db.session.begin_nested()) would start one of its own, and its
    RELEASE would commit the request's work on the spot. Begin the transaction first, as on
    PostgreSQL: one request stays one transaction, rolled back as a whole."""
    raw = connection.connection.dbapi_connection
    if (
        statement.startswith("SAVEPOINT")
        and isinstance(raw, sqlite3.Connection)
        and not raw.in_transaction
    ):
        cursor.execute("BEGIN")
