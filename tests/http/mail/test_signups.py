"""Sign-ups that reveal no account: a taken address gets the page a new one gets, and its owner a
notice; unconfirmed sign-ups lapse, and `idp maintenance purge` clears them away."""

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select, update

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.credentials import passwords
from idp.flows.plan import PLANS_KEY
from idp.identity import accounts
from idp.models import FlowToken, PolicyBinding, User
from idp.models.types import utcnow
from idp.stages.email.stage import ACCOUNT_EXISTS_SUBJECT
from idp.stages.user_write import stage as user_write_stage
from tests.conftest import FlowDriver
from tests.factories import make_user, protect_wiki_for
from tests.http.test_executor import session_of
from tests.smtp_server import text_of

ENROLLMENT = "default-enrollment-flow"
PASSWORD = "violet kettle marches north"
CONFIRM_SUBJECT = "Confirm your Gatehouse account"
TAKEN = "This username is taken."
LONG_AGO = timedelta(days=2)


def answers(username="newbie", email="newbie@example.test") -> dict:
    return {
        "username": username,
        "name": "New Bie",
        "email": email,
        "password": PASSWORD,
        "password_repeat": PASSWORD,
    }


def sign_up(app, **answer_changes) -> FlowDriver:
    browser = FlowDriver(app.test_client())
    browser.open(ENROLLMENT)
    browser.submit(ENROLLMENT, answers(**answer_changes))
    return browser


def users(app) -> list[tuple[str, str, bool]]:
    with app.app_context():
        rows = db.session.execute(select(User.username, User.email, User.is_active)).all()
        return sorted(tuple(row) for row in rows)


def age_accounts(app, by=LONG_AGO) -> None:
    """Every account was made `by` ago."""
    with app.app_context():
        db.session.execute(update(User).values(created_at=utcnow() - by))
        db.session.commit()


def plan_context(app, browser: FlowDriver) -> dict:
    return session_of(app, browser.client)[PLANS_KEY][ENROLLMENT]["context"]


def shape(value):
    """The keys and value types of a plan context, without the values."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    return type(value).__name__


def without(text: str, *words: str) -> str:
    for word in words:
        text = text.replace(word, "WORD")
    return re.sub(r'value="[\w.-]{40,}"', 'value="TOKEN"', text)  # the CSRF token


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every password hashed during the test (the bcrypt work a request does)."""
    hashed = []

    def counting(password):
        hashed.append(password)
        return real(password)

    real = passwords.hash_password
    monkeypatch.setattr(accounts, "hash_password", counting)
    monkeypatch.setattr(user_write_stage, "hash_password", counting)
    return hashed


# --- a taken address ----------------------------------------------------------------------------


def test_a_taken_address_looks_like_a_new_one_and_its_owner_is_told_by_mail(app, mailbox, hashes):
    with app.app_context():
        owner = make_user("owner", email="taken@example.test")
        before = (owner.password_hash, owner.updated_at, owner.is_active)
    hashes.clear()

    taken = sign_up(app, username="newbie", email="taken@example.test")
    fresh = sign_up(app, username="fresher", email="fresh@example.test")

    assert taken.stage == fresh.stage == "email"
    assert without(taken.page, "taken@") == without(fresh.page, "fresh@")
    assert shape(plan_context(app, taken)) == shape(plan_context(app, fresh))
    assert len(hashes) == 2  # the taken address costs the same bcrypt work
    assert users(app) == [
        ("fresher", "fresh@example.test", False),
        ("owner", "taken@example.test", True),
    ]
    with app.app_context():
        owner = db.session.scalar(select(User).where(User.username == "owner"))
        assert (owner.password_hash, owner.updated_at, owner.is_active) == before

    by_address = {mail["To"]: mail for mail in mailbox.wait_for(2)}
    notice, confirmation = by_address["taken@example.test"], by_address["fresh@example.test"]
    assert notice["Subject"] == ACCOUNT_EXISTS_SUBJECT
    assert confirmation["Subject"] == CONFIRM_SUBJECT
    body = text_of(notice)
    assert "http://localhost/login" in body and "http://localhost/recover" in body
    assert "/flow/email/" not in body


def test_the_notice_links_use_the_base_url_and_name_no_account(app, mailbox):
    app.config["BASE_URL"] = "https://id.example.test"
    with app.app_context():
        make_user("owner", email="taken@example.test")
    sign_up(app, email="taken@example.test")
    body = text_of(mailbox.wait_for(1)[0])
    assert "https://id.example.test/login" in body
    assert "https://id.example.test/recover" in body
    assert "owner" not in body  # whoever reads the mail learns no username from it


def test_send_again_on_a_taken_address_sends_notices_within_the_same_hourly_limit(app, mailbox):
    with app.app_context():
        make_user("owner", email="taken@example.test")
    taken = sign_up(app, email="taken@example.test")
    fresh = sign_up(app, username="fresher", email="fresh@example.test")
    for browser in (taken, fresh):
        answers_to_send_again = [browser.submit(ENROLLMENT, {}) for _ in range(5)]
        assert all(response.status_code in (200, 303) for response in answers_to_send_again)
        assert "You asked for several links; try again later." in browser.text
    wait_for_mail()
    notices = [mail for mail in mailbox.messages if mail["To"] == "taken@example.test"]
    links = [mail for mail in mailbox.messages if mail["To"] == "fresh@example.test"]
    assert len(notices) == len(links) == 5


@pytest.mark.parametrize("holder_is_active", [True, False], ids=["active", "unconfirmed"])
def test_a_taken_username_is_the_same_field_error_whoever_holds_it(app, mailbox, holder_is_active):
    if holder_is_active:
        with app.app_context():
            make_user("newbie", email="first@example.test")
    else:
        sign_up(app, email="first@example.test")
    before = users(app)
    browser = sign_up(app, email="second@example.test")
    assert browser.stage == "prompt"
    assert TAKEN in browser.text
    assert 'id="username-errors"' in browser.page
    assert users(app) == before


def test_a_username_taken_by_a_parallel_sign_up_is_the_same_field_error(app, monkeypatch):
    # Both checks before the insert see the name free, as when another sign-up commits it in
    # between: the unique index refuses the insert, and the form is asked again.
    from idp.stages.prompt import forms as prompt_forms

    real = user_write_stage.username_is_free
    lies = iter([True])
    monkeypatch.setattr(prompt_forms, "username_is_free", lambda username: True)
    monkeypatch.setattr(
        user_write_stage, "username_is_free", lambda username: next(lies, None) or real(username)
    )
    with app.app_context():
        make_user("newbie", email="first@example.test")
    before = users(app)

    browser = sign_up(app, email="second@example.test")

    assert browser.stage == "prompt"
    assert 'id="username-errors"' in browser.page and TAKEN in browser.text
    assert 'value="second@example.test"' in browser.page  # the other answers are kept
    assert users(app) == before
    # The plan is back at the form: answering it again with a free name goes on.
    browser.submit(ENROLLMENT, answers(username="newbie2", email="second@example.test"))
    assert browser.stage == "email"


# --- unconfirmed sign-ups lapse -----------------------------------------------------------------


def test_a_lapsed_signup_is_replaced_and_its_old_link_is_dead(app, mailbox):
    sign_up(app, email="first@example.test")
    old_link = mailbox.wait_for(1)[0]
    age_accounts(app)

    again = sign_up(app, email="first@example.test")

    assert again.stage == "email"
    assert users(app) == [("newbie", "first@example.test", False)]
    new_link = mailbox.wait_for(2)[-1]
    assert new_link["Subject"] == CONFIRM_SUBJECT
    dead = FlowDriver(app.test_client()).client.get(
        urlsplit(re.search(r"http\S+", text_of(old_link)).group(0)).path
    )
    assert dead.status_code == 400
    opened = again.client.get(urlsplit(re.search(r"http\S+", text_of(new_link)).group(0)).path)
    assert opened.status_code == 303
    assert users(app) == [("newbie", "first@example.test", True)]


def test_a_lapsed_signup_frees_its_username_and_address_separately(app, mailbox):
    sign_up(app, username="newbie", email="first@example.test")
    sign_up(app, username="other", email="other@example.test")
    age_accounts(app)
    sign_up(app, username="newbie", email="brand-new@example.test")
    sign_up(app, username="third", email="other@example.test")
    assert users(app) == [
        ("newbie", "brand-new@example.test", False),
        ("third", "other@example.test", False),
    ]


def test_a_recent_unconfirmed_signup_keeps_its_address(app, mailbox):
    sign_up(app, username="first", email="first@example.test")
    age_accounts(app, by=timedelta(hours=23))
    second = sign_up(app, username="second", email="first@example.test")
    assert second.stage == "email"
    assert users(app) == [("first", "first@example.test", False)]
    # Each mail goes from a thread of its own: the first sign-up's may arrive second.
    subjects = sorted(message["Subject"] for message in mailbox.wait_for(2))
    assert subjects == sorted([CONFIRM_SUBJECT, ACCOUNT_EXISTS_SUBJECT])


def test_an_account_disabled_by_an_admin_is_never_replaced(app, mailbox):
    with app.app_context():
        make_user("newbie", email="first@example.test", active=False)
    age_accounts(app)
    by_name = sign_up(app, username="newbie", email="second@example.test")
    by_address = sign_up(app, username="another", email="first@example.test")
    assert by_name.stage == "prompt" and TAKEN in by_name.text
    assert by_address.stage == "email"
    assert users(app) == [("newbie", "first@example.test", False)]
    assert mailbox.wait_for(1)[0]["Subject"] == ACCOUNT_EXISTS_SUBJECT


def test_activating_an_unconfirmed_signup_by_any_path_makes_it_an_account(app, mailbox):
    sign_up(app, email="first@example.test")
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "newbie"))
        assert user.is_unconfirmed_signup
        user.is_active = True  # as an admin would
        db.session.commit()
        user.is_active = False  # and disable it again later
        db.session.commit()
        assert not user.is_unconfirmed_signup
    age_accounts(app)
    assert sign_up(app, email="second@example.test").stage == "prompt"
    assert users(app) == [("newbie", "first@example.test", False)]


# --- idp maintenance purge ----------------------------------------------------------------------


def token_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(FlowToken))


def test_purge_deletes_lapsed_signups_and_old_expired_tokens_only(app, runner, mailbox):
    with app.app_context():
        make_user("disabled", email="disabled@example.test", active=False)
        make_user("active", email="active@example.test")
    sign_up(app, username="lapsed", email="lapsed@example.test")
    age_accounts(app)
    sign_up(app, username="recent", email="recent@example.test")
    with app.app_context():
        db.session.add(
            FlowToken(
                token_hash="0" * 64,
                purpose="captcha",
                flow_slug=ENROLLMENT,
                created_at=utcnow() - LONG_AGO,
                expires_at=utcnow() - LONG_AGO + timedelta(minutes=5),
            )
        )
        db.session.commit()
    assert token_count(app) == 3

    dry = runner.invoke(args=["maintenance", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Would delete 1 unconfirmed sign-up(s) and 1 expired flow token(s)." in dry.output
    assert len(users(app)) == 4 and token_count(app) == 3

    result = runner.invoke(args=["maintenance", "purge"])
    assert result.exit_code == 0, result.output
    # The lapsed sign-up's own link went with it; the recent one's link stays.
    assert "Deleted 1 unconfirmed sign-up(s) and 1 expired flow token(s)." in result.output
    assert [name for name, _, _ in users(app)] == ["active", "disabled", "recent"]
    assert token_count(app) == 1


def test_purge_older_than_overrides_the_setting(app, runner, mailbox):
    sign_up(app, username="recent", email="recent@example.test")
    age_accounts(app, by=timedelta(hours=3))
    result = runner.invoke(args=["maintenance", "purge", "--older-than", "2h"])
    assert result.exit_code == 0, result.output
    assert users(app) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--older-than", "soon"], "--older-than: 'soon' is not a duration"),
        (["--older-than", "30m"], "--older-than must be at least 1h"),
    ],
)
def test_purge_refuses_a_bad_duration_in_one_line(app, runner, mailbox, args, message):
    sign_up(app, username="recent", email="recent@example.test")
    result = runner.invoke(args=["maintenance", "purge", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {message}")
    assert len(users(app)) == 1


def test_users_create_takes_the_name_of_a_lapsed_signup_only(app, runner, mailbox):
    sign_up(app, username="lapsed", email="lapsed@example.test")
    sign_up(app, username="recent", email="recent@example.test")
    age_accounts(app, by=timedelta(hours=23))
    refused = runner.invoke(args=["users", "create", "recent"])
    assert refused.exit_code == 2 and "exists already" in refused.output
    age_accounts(app)
    args = ["users", "create", "lapsed", "--email", "lapsed@example.test"]
    created = runner.invoke(args=args)
    assert created.exit_code == 0, created.output
    assert ("lapsed", "lapsed@example.test", True) in users(app)
    assert len(users(app)) == 2


def test_a_lapsed_signup_named_by_a_binding_is_kept_with_its_name(app, runner, mailbox):
    """Deleting it would delete the binding, and the application it alone guarded would open
    to every signed-in user."""
    sign_up(app, username="lapsed", email="lapsed@example.test")
    age_accounts(app)
    protect_wiki_for(runner, "lapsed")

    result = runner.invoke(args=["maintenance", "purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 0 unconfirmed sign-up(s)" in result.output
    refused = runner.invoke(args=["users", "create", "lapsed"])
    assert refused.exit_code == 2 and "exists already" in refused.output
    with app.app_context():
        assert accounts.find_user("lapsed") is not None
        assert (
            db.session.scalar(select(func.count()).where(PolicyBinding.user_id.is_not(None))) == 1
        )
