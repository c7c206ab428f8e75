"""Replay and skipping: a TOTP code or a recovery code works once, a stage cannot be skipped
by posting a later stage's answer (to this flow or another), and a cookie replayed from
before a sign-in neither signs in again nor skips what is left."""

import pyotp
import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Event, UserSession
from tests.database_state import table_rows
from tests.factories import PASSWORD
from tests.http.stages.test_authenticators import Clock, otpauth_uri, recovery_codes_on
from tests.security.visitor import AUTH, open_mailed_link

TOTP_SETUP = "default-authenticator-totp-setup"
STATIC_SETUP = "default-authenticator-static-setup"
RECOVERY = "default-recovery-flow"
WRONG_CODE = "That code is not right."


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def alice_totp(new_visitor, alice, clock) -> pyotp.TOTP:
    visitor = new_visitor()
    visitor.sign_in("alice")
    visitor.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(visitor.page))
    visitor.submit(TOTP_SETUP, {"code": clock.code(totp)})
    clock.advance()
    return totp


def at_code_stage(new_visitor):
    visitor = new_visitor()
    visitor.sign_in("alice")
    assert visitor.stage == "authenticator_validate"
    return visitor


def sessions_of_alice(app, alice) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(UserSession).where(UserSession.user_id == alice)
        )


def test_a_totp_code_signs_in_once(new_visitor, alice_totp, clock):
    first, second = at_code_stage(new_visitor), at_code_stage(new_visitor)
    code = clock.code(alice_totp)
    first.submit(AUTH, {"code": code})
    assert first.is_signed_in
    second.submit(AUTH, {"code": code})  # the same code, seconds later, in the same step
    assert WRONG_CODE in second.text
    assert not second.is_signed_in


def test_a_recovery_code_signs_in_once(new_visitor, alice):
    owner = new_visitor()
    owner.sign_in("alice")
    owner.open(STATIC_SETUP)
    code = recovery_codes_on(owner.page)[0]
    owner.submit(STATIC_SETUP, {})
    first, second = at_code_stage(new_visitor), at_code_stage(new_visitor)
    first.submit(AUTH, {"code": code})
    assert first.is_signed_in
    second.submit(AUTH, {"code": code})
    assert WRONG_CODE in second.text
    assert not second.is_signed_in


def test_the_cookie_from_before_the_code_cannot_sign_in_again(
    app, new_visitor, alice, alice_totp, clock
):
    visitor = at_code_stage(new_visitor)
    before_code = visitor.with_cookie(visitor.cookie)  # the password is proved in this plan
    code = clock.code(alice_totp)
    visitor.submit(AUTH, {"code": code})
    assert visitor.is_signed_in
    sessions = sessions_of_alice(app, alice)
    before_code.submit(AUTH, {"code": code})
    assert not before_code.is_signed_in
    before_code.submit(AUTH, {"code": "000000"})
    assert not before_code.is_signed_in
    assert sessions_of_alice(app, alice) == sessions


def test_the_cookie_from_before_the_password_still_needs_it_after_sign_out(app, new_visitor, alice):
    visitor = new_visitor()
    visitor.open(AUTH)
    visitor.submit(AUTH, {"uid_field": "alice"})
    before_password = visitor.with_cookie(visitor.cookie)
    visitor.submit(AUTH, {"password": PASSWORD})
    assert visitor.is_signed_in
    visitor.http.get("/logout", follow_redirects=True)
    response = before_password.submit(AUTH, {"password": "not the password"})
    assert response.status_code == 400
    assert before_password.stage == "password"
    assert not before_password.is_signed_in
    assert sessions_of_alice(app, alice) == 1


def test_posting_the_password_at_identification_does_not_skip_it(new_visitor, alice):
    visitor = new_visitor()
    visitor.open(AUTH)
    response = visitor.submit(AUTH, {"password": PASSWORD})
    assert response.status_code == 400
    assert visitor.stage == "identification"
    # A later stage's answer posted with the name: only the current stage's fields are read.
    # (The shipped sign-in asks name and password on one page; without a password the name
    # only identifies, and the password stage asks for it.)
    visitor.submit(AUTH, {"uid_field": "alice", "code": "123456", "password_repeat": "x"})
    assert visitor.stage == "password"
    assert not visitor.is_signed_in


def test_a_later_stages_answer_posted_to_another_flow_changes_nothing(app, new_visitor, alice):
    visitor = new_visitor()
    visitor.open(AUTH)
    before = table_rows(app)
    new_password = dict.fromkeys(("password", "password_repeat"), "a brand new passphrase 42")
    # The recovery flow's new-password answer, with a token from the sign-in page: there is
    # no plan of that flow yet, so the visitor is sent to its start.
    response = visitor.post(f"/flow/{RECOVERY}/", {"uid_field": "alice", **new_password})
    assert response.status_code == 303
    visitor.open(RECOVERY)
    assert visitor.stage == "identification"
    response = visitor.submit(RECOVERY, new_password)
    assert response.status_code == 400
    assert visitor.stage == "identification"
    after = table_rows(app)
    assert after["users"] == before["users"]
    assert after["password_history"] == before["password_history"]
    assert not visitor.is_signed_in


def test_a_recovery_cookie_replayed_after_the_reset_cannot_set_another_password(
    app, new_visitor, mailbox, alice
):
    owner = new_visitor()
    owner.open(RECOVERY)
    owner.submit(RECOVERY, {"uid_field": "alice"})
    open_mailed_link(owner, mailbox, 1)
    assert owner.stage == "prompt"
    stolen = owner.with_cookie(owner.cookie)  # the mailed link is proved in this plan
    chosen = dict.fromkeys(("password", "password_repeat"), "amber lantern drifts east")
    owner.submit(RECOVERY, chosen)
    assert owner.is_signed_in
    before = table_rows(app)

    replayed = dict.fromkeys(("password", "password_repeat"), "the attacker chose this one")
    response = stolen.submit(RECOVERY, replayed)
    assert response.status_code == 403
    assert "This step was already done." in stolen.text
    after = table_rows(app)
    # Nothing stays of the replayed request: not the password, not the other sessions' end.
    for table in ("users", "password_history", "user_sessions"):
        assert after[table] == before[table], table
    assert owner.is_signed_in and not stolen.is_signed_in
    with app.app_context():
        assert db.session.scalar(select(Event.id).where(Event.action == "plan_replayed"))
