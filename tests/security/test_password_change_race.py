"""A sign-in whose password check overlaps a password change (its owner's, on another
browser; an administrator's): the change ends every session the old password made, so a
session the old password makes while the change commits must not outlive it.

The interleaving is made, not hoped for: the sign-in's bcrypt check returns "right" for the
old password, and before the request goes on, the change is sent from another thread and
committed. Runs on SQLite, and on PostgreSQL with IDP_TEST_DATABASE_URL."""

import threading

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.credentials import password_checks
from idp.identity import sessions
from idp.models import User, UserSession
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user
from tests.http.admin.conftest import post, signed_in
from tests.http.stages.test_authenticators import signed_in as is_signed_in

AUTH = "default-authentication-flow"
CHANGE = "default-password-change"
NEW_PASSWORD = "a quite different password 93"


def live_sessions(app, username: str) -> set[int]:
    with app.app_context():
        owner = select(User.id).where(User.username == username).scalar_subquery()
        return set(
            db.session.scalars(
                select(UserSession.id).where(
                    UserSession.user_id == owner, UserSession.revoked_at.is_(None)
                )
            )
        )


def owner_changes_it(app):
    """The owner, signed in on another browser, is at the new-password prompt."""
    browser = FlowDriver(app.test_client())
    browser.sign_in("pat", PASSWORD)
    browser.open(CHANGE)
    browser.submit(CHANGE, {"password": PASSWORD})
    assert browser.stage == "prompt"
    fields = {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD}
    return lambda: browser.submit(CHANGE, fields).status_code


def admin_changes_it(app):
    admin = signed_in(app, "root")
    with app.app_context():
        pat = db.session.scalar(select(User.id).where(User.username == "pat"))
    url = f"/admin/users/{pat}/password"
    fields = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    return lambda: post(admin, url, fields).status_code


def changed_during_the_check(monkeypatch, change) -> list:
    """The first password check of the sign-in thread runs, then `change` runs to its commit
    in another thread, then the check answers."""
    real_check = password_checks.check_password
    statuses = []
    sign_in_thread = threading.get_ident()

    def check_then_change(password, password_hash):
        right = real_check(password, password_hash)
        if threading.get_ident() == sign_in_thread and not statuses:
            changer = threading.Thread(target=lambda: statuses.append(change()))
            changer.start()
            changer.join(timeout=60)
        return right

    monkeypatch.setattr(password_checks, "check_password", check_then_change)
    return statuses


@pytest.mark.parametrize("changer", [owner_changes_it, admin_changes_it])
def test_a_sign_in_with_the_password_changed_during_its_check_starts_no_session(
    app, monkeypatch, changer
):
    with app.app_context():
        make_user("pat")
        make_user("root", superuser=True)
    change = changer(app)
    before = live_sessions(app, "pat")
    statuses = changed_during_the_check(monkeypatch, change)

    visitor = FlowDriver(app.test_client())
    response = visitor.sign_in("pat", PASSWORD)

    assert statuses == [303]  # the change went through while the check ran
    assert response.status_code < 500
    assert "The password was changed meanwhile." in visitor.text
    assert not is_signed_in(visitor)
    # No session of pat is alive that was not alive before (the owner keeps their own).
    assert live_sessions(app, "pat") <= before
    monkeypatch.undo()
    assert FlowDriver(app.test_client()).sign_in("pat", NEW_PASSWORD).status_code == 303


def test_a_sign_in_with_the_password_unchanged_still_signs_in(app, monkeypatch):
    with app.app_context():
        make_user("pat")
    statuses = changed_during_the_check(monkeypatch, lambda: 0)
    visitor = FlowDriver(app.test_client())
    assert visitor.sign_in("pat", PASSWORD).status_code == 303
    assert statuses == [0]
    assert is_signed_in(visitor)


@pytest.mark.parametrize("changer", [owner_changes_it, admin_changes_it])
def test_a_password_change_sent_as_the_session_starts_ends_that_session(app, monkeypatch, changer):
    """The other order: the sign-in holds the user's row when the change comes. The change
    waits for the sign-in to commit (a second here at most, then the sign-in goes on), then
    ends the new session with the others."""
    with app.app_context():
        make_user("pat")
        make_user("root", superuser=True)
    change = changer(app)
    before = live_sessions(app, "pat")
    real_hold = sessions.hold_user_to_sign_in
    changer_thread, statuses = [], []

    def hold_then_change(user_id):
        user = real_hold(user_id)
        if not changer_thread:
            changer_thread.append(threading.Thread(target=lambda: statuses.append(change())))
            changer_thread[0].start()
            changer_thread[0].join(timeout=1)  # it waits for this request's lock
        return user

    monkeypatch.setattr(sessions, "hold_user_to_sign_in", hold_then_change)
    visitor = FlowDriver(app.test_client())
    response = visitor.sign_in("pat", PASSWORD)
    changer_thread[0].join(timeout=60)

    assert response.status_code == 303  # signed in, for the moment
    assert statuses == [303]
    assert not is_signed_in(visitor)  # the change ended it
    assert live_sessions(app, "pat") <= before
