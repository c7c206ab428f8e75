"""Passwords over real HTTP: one password whatever Unicode form it is typed in (NFKC, NIST SP
800-63B), old hashes replaced at the next sign-in, nothing cut at bcrypt's 72 bytes, and the
shipped sign-up refusing repetitive, sequential and context passwords with a reason."""

import base64
import hashlib

import bcrypt
import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import User
from tests import factories

ENROLLMENT = "default-enrollment-flow"
# "é" and "ï" as one code point each, the ligature "fi", a full-width A; then as typed elsewhere.
COMPOSED = "caf\u00e9 na\u00efve \ufb01sh \uff21"
DECOMPOSED = "cafe\u0301 nai\u0308ve fish A"
REPETITIVE = (
    "This password is mostly repeated or sequential characters (like aaaa, abcd or 1234). "
    "Mix in more of your own."
)


def stored_hash(app, username) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash).where(User.username == username))


def test_a_password_typed_in_another_unicode_form_signs_in(app, new_visitor):
    with app.app_context():
        factories.make_user("unicode", password=COMPOSED)
    visitor = new_visitor()
    assert visitor.sign_in("unicode", DECOMPOSED).status_code == 303
    assert visitor.is_signed_in


def test_a_hash_from_before_normalising_signs_in_once_then_is_replaced(app, new_visitor):
    # As Gatehouse stored them before: bcrypt over the SHA-256 of the password as typed.
    digest = base64.b64encode(hashlib.sha256(COMPOSED.encode()).digest())
    legacy = "bcrypt-sha256$" + bcrypt.hashpw(digest, bcrypt.gensalt(4)).decode()
    with app.app_context():
        factories.make_user("veteran", password=None).password_hash = legacy
        db.session.commit()

    first = new_visitor()
    assert first.sign_in("veteran", COMPOSED).status_code == 303
    upgraded = stored_hash(app, "veteran")
    assert upgraded.startswith("bcrypt-sha256-nfkc$") and upgraded != legacy

    second = new_visitor()  # now the other form works too, and the hash stays
    assert second.sign_in("veteran", DECOMPOSED).status_code == 303
    assert stored_hash(app, "veteran") == upgraded


def test_passwords_are_not_cut_at_72_bytes(app, new_visitor):
    long_password = "\u00e9" * 40 + "tail-one"  # 88 bytes in UTF-8
    with app.app_context():
        factories.make_user("longpass", password=long_password)
    assert new_visitor().sign_in("longpass", "\u00e9" * 40 + "tail-two").status_code == 400
    assert new_visitor().sign_in("longpass", long_password).status_code == 303


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaaaa", REPETITIVE),
        ("abcdefgh1234", REPETITIVE),
        ("Gatehouse rocks 2026", "Don't use the name of this service or site in your password."),
        ("newcomer is here", "Don't use your username in your password."),
        ("dear joiner-2026", "Don't use your email address in your password."),
    ],
)
def test_the_shipped_sign_up_refuses_weak_passwords_with_the_reason(
    app, new_visitor, password, reason
):
    visitor = new_visitor()
    visitor.open(ENROLLMENT)
    response = visitor.submit(
        ENROLLMENT,
        {
            "username": "newcomer",
            "name": "",
            "email": "joiner@example.test",
            "password": password,
            "password_repeat": password,
        },
    )
    assert response.status_code == 400
    assert reason in visitor.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "newcomer")) is None


def test_the_shipped_sign_up_refuses_a_run_of_digits(app, new_visitor):
    visitor = new_visitor()
    visitor.open(ENROLLMENT)
    fields = {"username": "newcomer", "email": "joiner@example.test"}
    fields |= {"name": "", "password": "123456789", "password_repeat": "123456789"}
    assert visitor.submit(ENROLLMENT, fields).status_code == 400
    assert REPETITIVE in visitor.text
