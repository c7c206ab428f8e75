"""Replayed plan cookies and parallel requests against what changed in the database since:
a user deleted or disabled while their plan was half done, an account deleted twice by one
plan, one mailed link opened by several requests at once."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from urllib.parse import urlsplit

from sqlalchemy import func, select

from idp.core.extensions import db
from idp.identity.accounts import set_password
from idp.identity.deletion import delete_user
from idp.models import Event, User, UserSession
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user
from tests.http.stages.test_authenticators import Clock, set_up_totp, signed_in, signed_in_driver
from tests.smtp_server import link_in

AUTH = "default-authentication-flow"
RECOVERY = "default-recovery-flow"
UNENROLL = "default-unenrollment-flow"
NEW_PASSWORD = "an entirely new password 77"


def count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def at_the_code_stage(app, monkeypatch, username: str) -> tuple[FlowDriver, Clock]:
    """A browser whose plan has proved the user's password and asks for their app's code."""
    clock = Clock(monkeypatch)
    with app.app_context():
        make_user(username)
    totp = set_up_totp(signed_in_driver(app, username), clock)
    clock.advance(10)
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    assert driver.stage == "authenticator_validate"
    return driver, clock.code(totp)


def test_a_plan_proved_for_a_deleted_user_signs_nobody_in_under_a_reused_id(app, monkeypatch):
    """SQLite hands a deleted user's id to the next account unless told not to. A plan that
    proved the deleted user must not carry on as that next account."""
    mallory, _code = at_the_code_stage(app, monkeypatch, "mallory")
    with app.app_context():
        old = db.session.scalar(select(User).where(User.username == "mallory"))
        old_id = old.id
        delete_user(old)
        db.session.commit()
        newcomer_id = make_user("newcomer").id
    sessions = count(app, UserSession)

    response = mallory.open(AUTH)  # the newcomer has no app: nothing left to ask for
    assert response.status_code < 500
    assert not signed_in(mallory)
    assert count(app, UserSession) == sessions
    assert newcomer_id != old_id  # ids are never handed out again


def test_a_user_disabled_at_the_code_stage_is_not_signed_in_by_the_right_code(app, monkeypatch):
    driver, code = at_the_code_stage(app, monkeypatch, "tess")
    with app.app_context():
        db.session.scalar(select(User).where(User.username == "tess")).is_active = False
        db.session.commit()
    sessions = count(app, UserSession)
    response = driver.submit(AUTH, {"code": code})
    assert response.status_code < 500
    assert not signed_in(driver)
    assert count(app, UserSession) == sessions


def unenrolling(app, username: str) -> FlowDriver:
    """A signed-in browser at the unenrollment flow's password stage."""
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    driver.open(UNENROLL)
    driver.submit(UNENROLL, {})
    assert driver.stage == "password"
    return driver


def copy_of(driver: FlowDriver) -> FlowDriver:
    """Another browser holding a copy of the driver's cookie, showing the same page."""
    cookie = driver.client.get_cookie("gatehouse_session")
    other = FlowDriver(driver.client.application.test_client())
    other.client.set_cookie(cookie.key, cookie.value)
    other.page = driver.page
    return other


def test_an_unenrollment_cookie_replayed_after_the_deletion_deletes_nobody_else(app):
    with app.app_context():
        make_user("leaver")
    driver = unenrolling(app, "leaver")
    replayed = copy_of(driver)
    driver.submit(UNENROLL, {"password": PASSWORD})
    assert count(app, User, User.username == "leaver") == 0
    with app.app_context():
        make_user("leaver")  # the name is taken again, by someone else
    users = count(app, User)

    response = replayed.submit(UNENROLL, {"password": PASSWORD})
    assert response.status_code == 403
    assert "Please sign in first." in replayed.text  # the cookie's session went with the user
    assert count(app, User) == users
    assert count(app, User, User.username == "leaver") == 1


def test_parallel_copies_of_an_unenrollment_plan_delete_once_without_an_error(app):
    with app.app_context():
        make_user("leaver")
        bystanders = count(app, User) - 1
    driver = unenrolling(app, "leaver")
    copies = [copy_of(driver) for _ in range(6)]
    start = Barrier(len(copies))

    def delete(copy):
        start.wait()
        return copy.submit(UNENROLL, {"password": PASSWORD}).status_code

    with ThreadPoolExecutor(len(copies)) as pool:
        statuses = list(pool.map(delete, copies))
    # One deletes; the others are told the step was done, or (400) that the passwords
    # counted before their hash ran were too many at once. None is an error page.
    assert statuses.count(303) == 1, statuses
    assert all(status in (303, 400, 403) for status in statuses), statuses
    assert count(app, User) == bystanders
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Event).where(Event.action == "user_deleted")
            )
            == 1
        )


def test_one_mailed_link_opened_by_several_requests_at_once_resumes_one_plan(
    app, new_visitor, mailbox, alice
):
    owner = new_visitor()
    owner.open(RECOVERY)
    owner.submit(RECOVERY, {"uid_field": "alice"})
    path = urlsplit(link_in(mailbox.wait_for(1)[-1])).path
    openers = [new_visitor(headers={"Sec-Fetch-Site": "none"}) for _ in range(8)]
    start = Barrier(len(openers))

    def open_link(visitor):
        start.wait()
        return visitor.http.get(path).status_code

    with ThreadPoolExecutor(len(openers)) as pool:
        statuses = list(pool.map(open_link, openers))
    assert sorted(statuses) == [303] + [410] * (len(openers) - 1), statuses
    (winner,) = (
        visitor for visitor, status in zip(openers, statuses, strict=True) if status == 303
    )
    winner.open(RECOVERY)
    assert winner.stage == "prompt"
    for visitor, status in zip(openers, statuses, strict=True):
        if status == 410:
            visitor.open(RECOVERY)
            assert visitor.stage == "identification"


def test_a_password_changed_at_the_code_stage_shuts_out_the_plan_that_proved_the_old_one(
    app, monkeypatch
):
    """The owner (or an administrator) sets a new password while a plan that proved the old
    one waits for the code: whoever knew the old password is shut out, as its sessions are."""
    driver, code = at_the_code_stage(app, monkeypatch, "pat")
    with app.app_context():
        set_password(db.session.scalar(select(User).where(User.username == "pat")), NEW_PASSWORD)
        db.session.commit()
    sessions = count(app, UserSession)
    response = driver.submit(AUTH, {"code": code})
    assert response.status_code == 403
    assert "The password was changed meanwhile." in driver.text
    assert not signed_in(driver)
    assert count(app, UserSession) == sessions
    driver.sign_in("pat", NEW_PASSWORD)  # the new password gets as far as the code
    assert driver.stage == "authenticator_validate"
