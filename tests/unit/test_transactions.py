"""One request, one transaction, on SQLite as on PostgreSQL: a savepoint is part of it."""

from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Group


def test_work_inside_a_savepoint_is_rolled_back_with_the_transaction(app):
    with app.app_context():
        with db.session.begin_nested():
            db.session.add(Group(name="inside-a-savepoint"))
        db.session.rollback()
        assert db.session.scalar(select(Group).where(Group.name == "inside-a-savepoint")) is None
