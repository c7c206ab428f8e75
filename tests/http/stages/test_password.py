import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.credentials.passwords import check_password, hash_password
from idp.models import Event, FailedAttempts, User
from tests.factories import PASSWORD, account_of, make_user

AUTH = "default-authentication-flow"


def failures(app, scope, key):
    """Failures counted for an IP, or for the account a name stands for."""
    with app.app_context():
        if scope == "account":
            key = account_of(key)
        row = db.session.scalar(
            select(FailedAttempts).where(FailedAttempts.scope == scope, FailedAttempts.key == key)
        )
        return row.failures if row else 0


def test_right_password_signs_in(app, flows):
    with app.app_context():
        make_user("erin")
    response = flows.sign_in("erin", PASSWORD)
    assert response.status_code == 303
    assert "erin" in flows.client.get("/me").get_data(as_text=True)


def test_wrong_password_and_unknown_user_get_the_same_message(app, flows):
    with app.app_context():
        make_user("frank")
    answers = []
    for name in ("frank", "franky"):
        flows.client.get(f"/flow/{AUTH}/restart")
        response = flows.sign_in(name, "not the password")
        answers.append((response.status_code, flows.text.split("Signing in as")[0]))
        assert "Invalid username or password." in flows.page
    assert answers[0] == answers[1]


def test_inactive_user_gets_the_same_message_as_a_wrong_password(app, flows):
    with app.app_context():
        make_user("gina", active=False)
    response = flows.sign_in("gina", PASSWORD)
    assert response.status_code == 400
    assert "Invalid username or password." in flows.page
    assert flows.client.get("/me").status_code == 302


def test_user_without_password_cannot_sign_in(app, flows):
    with app.app_context():
        make_user("hank", password=None)
    flows.sign_in("hank", "")
    assert flows.client.get("/me").status_code == 302


def test_failed_attempts_are_counted_per_account_and_ip(app, flows):
    with app.app_context():
        make_user("ivan")
    for _ in range(3):
        flows.client.get(f"/flow/{AUTH}/restart")
        flows.sign_in("IVAN", "wrong")
    assert failures(app, "account", "ivan") == 3
    assert failures(app, "ip", "127.0.0.1") == 3
    with app.app_context():
        events = db.session.scalars(select(Event.action).where(Event.action == "login_failed"))
        assert len(list(events)) == 3


def test_unknown_accounts_are_counted_too(app, flows):
    flows.sign_in("nobody", "wrong")
    assert failures(app, "account", "nobody") == 1


def test_success_clears_the_account_counter_but_not_other_failures_from_the_ip(app, flows):
    with app.app_context():
        make_user("judy")
    flows.sign_in("judy", "wrong")
    flows.client.get(f"/flow/{AUTH}/restart")
    flows.sign_in("judy", PASSWORD)
    assert failures(app, "account", "judy") == 0
    assert failures(app, "ip", "127.0.0.1") == 1


def test_replayed_cookie_does_not_reset_failed_attempts(app, flows):
    from tests.conftest import csrf_token

    with app.app_context():
        make_user("kate")
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "kate"})
    cookie = flows.client.get_cookie("gatehouse_session").value
    token = csrf_token(flows.page)
    for _ in range(4):
        flows.client.set_cookie("gatehouse_session", cookie)
        flows.client.post(f"/flow/{AUTH}/", data={"password": "wrong", "csrf_token": token})
    assert failures(app, "account", "kate") == 4


def test_passwords_longer_than_72_bytes_are_not_truncated(app, flows):
    long_password = "é" * 40 + "tail-one"  # 88 bytes in UTF-8
    with app.app_context():
        make_user("liam", password=long_password)
    flows.sign_in("liam", "é" * 40 + "tail-two")
    assert flows.client.get("/me").status_code == 302
    flows.client.get(f"/flow/{AUTH}/restart")
    flows.sign_in("liam", long_password)
    assert flows.client.get("/me").status_code == 200


def test_overlong_password_is_a_form_error_not_a_500(app, flows):
    with app.app_context():
        make_user("mia")
    response = flows.sign_in("mia", "x" * 5000)
    assert response.status_code == 400
    assert "at most 1024 characters" in flows.page


def test_hash_is_bcrypt_over_sha256_and_checks_in_both_directions(app):
    with app.app_context():
        stored = hash_password("secret", rounds=4)
        assert stored.startswith("bcrypt-sha256-nfkc$$2b$04$")
        assert check_password("secret", stored)
        assert not check_password("Secret", stored)
        assert not check_password("secret", None)
        assert not check_password("secret", "garbage")


def test_password_stage_checks_the_signed_in_user_when_no_one_was_named(app, flows):
    with app.app_context():
        make_user("nina")
        from tests.factories import make_flow

        slug = make_flow(
            [{"define": {"name": "reauth-password", "type": "password"}}],
            designation="stage_configuration",
        )
    flows.sign_in("nina", PASSWORD)
    flows.open(slug)
    assert flows.stage == "password"
    flows.submit(slug, {"password": "wrong"})
    assert "Invalid username or password." in flows.page
    response = flows.submit(slug, {"password": PASSWORD})
    assert response.status_code == 303


@pytest.mark.parametrize("password", ["", " "])
def test_blank_password_is_refused(app, flows, password):
    with app.app_context():
        make_user("oscar", password=" ")
    flows.sign_in("oscar", password)
    assert flows.client.get("/me").status_code == (200 if password == " " else 302)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "oscar")) is not None


# Passwords are normalised to NFKC (NIST SP 800-63B): the same password typed on another
# device, in another Unicode form, is the same password.
# é and ï as one code point each, the "fi" ligature, a full-width A.
COMPOSED = "caf\u00e9 na\u00efve \ufb01sh \uff21"
DECOMPOSED = "cafe\u0301 nai\u0308ve fish A"


def legacy_hash(password: str) -> str:
    """A hash as Gatehouse made them before normalising: bcrypt over the SHA-256 of the
    password as typed, marked bcrypt-sha256$."""
    import base64
    import hashlib

    import bcrypt

    digest = base64.b64encode(hashlib.sha256(password.encode("utf-8")).digest())
    return "bcrypt-sha256$" + bcrypt.hashpw(digest, bcrypt.gensalt(4)).decode("ascii")


def stored_hash(app, username):
    with app.app_context():
        return db.session.scalar(select(User.password_hash).where(User.username == username))


def give_legacy_hash(app, username, password):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        user.password_hash = legacy_hash(password)
        db.session.commit()
        return user.password_hash


@pytest.mark.parametrize(("chosen", "typed"), [(COMPOSED, DECOMPOSED), (DECOMPOSED, COMPOSED)])
def test_a_password_typed_in_another_unicode_form_signs_in(app, flows, chosen, typed):
    with app.app_context():
        make_user("unicode", password=chosen)
    response = flows.sign_in("unicode", typed)
    assert response.status_code == 303
    assert flows.client.get("/me").status_code == 200


def test_normalising_keeps_case_and_spaces_apart(app):
    with app.app_context():
        stored = hash_password(COMPOSED, rounds=4)
        assert check_password(DECOMPOSED, stored)
        assert not check_password(DECOMPOSED.upper(), stored)
        assert not check_password(DECOMPOSED + " ", stored)
        assert not check_password(DECOMPOSED.replace(" ", ""), stored)


def test_a_legacy_hash_signs_in_once_and_is_then_replaced(app, flows):
    with app.app_context():
        make_user("olduser", password=None)
    old = give_legacy_hash(app, "olduser", COMPOSED)
    with app.app_context():
        before = db.session.scalar(select(User).where(User.username == "olduser"))
        changed_at = before.password_changed_at

    assert flows.sign_in("olduser", COMPOSED).status_code == 303
    new = stored_hash(app, "olduser")
    assert new != old
    assert new.startswith("bcrypt-sha256-nfkc$")
    with app.app_context():
        after = db.session.scalar(select(User).where(User.username == "olduser"))
        assert after.password_changed_at == changed_at  # not a password change
        assert check_password(DECOMPOSED, new)
    # The replacement took: the other Unicode form now works too, and nothing changes again.
    flows.sign_out()
    assert flows.sign_in("olduser", DECOMPOSED).status_code == 303
    assert stored_hash(app, "olduser") == new


def test_a_legacy_hash_checks_the_password_as_typed(app, flows):
    with app.app_context():
        make_user("olduser", password=None)
    old = give_legacy_hash(app, "olduser", COMPOSED)
    # Made from the password as typed: another form did not match then and does not now.
    assert flows.sign_in("olduser", DECOMPOSED).status_code == 400
    assert "Invalid username or password." in flows.page
    assert stored_hash(app, "olduser") == old


def test_a_wrong_password_leaves_a_legacy_hash_alone(app, flows):
    with app.app_context():
        make_user("olduser", password=None)
    old = give_legacy_hash(app, "olduser", PASSWORD)
    assert flows.sign_in("olduser", "not the password").status_code == 400
    assert stored_hash(app, "olduser") == old


def test_a_damaged_hash_refuses_the_password_without_a_500(app, flows):
    with app.app_context():
        user = make_user("damaged")
        user.password_hash = "bcrypt-sha256-nfkc$not-a-bcrypt-hash"
        db.session.commit()
    assert flows.sign_in("damaged", PASSWORD).status_code == 400
    assert "Invalid username or password." in flows.page
