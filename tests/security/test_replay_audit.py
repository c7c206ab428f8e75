"""Replayed plan cookies against what changed in the database since: a user deleted while
their plan was half done."""

from sqlalchemy import func, select

from idp.core.extensions import db
from idp.identity.deletion import delete_user
from idp.models import User, UserSession
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user
from tests.http.stages.test_authenticators import Clock, set_up_totp, signed_in, signed_in_driver

AUTH = "default-authentication-flow"


def test_a_plan_proved_for_a_deleted_user_signs_nobody_in_under_a_reused_id(app, monkeypatch):
    """SQLite hands a deleted user's id to the next account. A plan that proved the deleted
    user (a password, a code still to type) must not carry on as that next account."""
    clock = Clock(monkeypatch)
    with app.app_context():
        make_user("mallory")
    set_up_totp(signed_in_driver(app, "mallory"), clock)
    clock.advance(10)
    mallory = FlowDriver(app.test_client())
    mallory.sign_in("mallory", PASSWORD)
    assert mallory.stage == "authenticator_validate"  # the password is proved in this plan
    with app.app_context():
        old = db.session.scalar(select(User).where(User.username == "mallory"))
        old_id = old.id
        delete_user(old)
        db.session.commit()
        newcomer_id = make_user("newcomer").id
        sessions = db.session.scalar(select(func.count()).select_from(UserSession))

    response = mallory.open(AUTH)  # the newcomer has no app: nothing left to ask for
    assert response.status_code < 500
    assert not signed_in(mallory)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == sessions
    assert newcomer_id != old_id  # ids are never handed out again
