"""Small helpers over SQLAlchemy that the services share."""

from sqlalchemy.dialects import postgresql, sqlite

_INSERT_BY_DIALECT = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def upsert_for(bind):
    """The INSERT construct of the bind's dialect, which has on_conflict_do_update/nothing."""
    return upsert_for_dialect(bind.dialect.name)


def upsert_for_dialect(dialect_name: str):
    return _INSERT_BY_DIALECT[dialect_name]
