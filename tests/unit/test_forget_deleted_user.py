"""After a rollback the executor asks whether the signed-in user still exists
(sessions.forget_user_deleted_meanwhile); it must answer for any user the request holds."""

from flask import g

from idp.core.extensions import db
from idp.identity.sessions import forget_user_deleted_meanwhile
from idp.models import User
from tests.factories import make_user


def test_a_user_this_request_made_and_rolled_back_is_let_go_quietly(app):
    with app.test_request_context():
        user = User(username="newcomer", email="newcomer@example.test", attributes={})
        db.session.add(user)
        db.session.flush()
        g._login_user = user
        db.session.rollback()  # the user has no identity any more
        forget_user_deleted_meanwhile()
        assert g._login_user is user  # nothing to look up; the request goes on as it was


def test_a_user_deleted_meanwhile_is_forgotten(app):
    with app.app_context():
        user_id = make_user("gone").id
    with app.test_request_context():
        g._login_user = db.session.get(User, user_id)
        db.session.execute(db.delete(User).where(User.id == user_id))
        forget_user_deleted_meanwhile()
        assert "_login_user" not in g
