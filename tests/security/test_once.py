"""What a plan may do once it does once, whatever cookies are replayed: a single-use invitation
makes one account, a mail on arrival leaves once, recovery codes are made once, an app is
saved once. Replayed copies of the plan cookie and parallel requests carrying it get the
same answer: the database has the last word (SQLite here; PostgreSQL with
IDP_TEST_DATABASE_URL)."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pyotp
import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.identity.invitations import create_invitation
from idp.models import Event, Invitation, StaticCode, TotpDevice, User
from tests import factories
from tests.http.stages.test_authenticators import Clock, otpauth_uri, recovery_codes_on
from tests.security.visitor import open_mailed_link

RECOVERY = "default-recovery-flow"
STATIC_SETUP = "default-authenticator-static-setup"
TOTP_SETUP = "default-authenticator-totp-setup"
ALREADY_DONE = "This step was already done. Please start again."
CROSS_SITE = {"Sec-Fetch-Site": "cross-site"}
SIGNUP_FIELDS = [
    {"key": "username", "label": "Username", "type": "username", "required": True},
    {"key": "email", "label": "Email", "type": "email", "required": True},
    {"key": "password", "label": "Password", "type": "password", "required": True},
]


def invited_signup_flow(confirm_by_mail: bool) -> str:
    """Invitation, prompt, user write; with mail confirmation and a sign-in, or without (a
    plan that never ends in a sign-in)."""
    stages = [
        {"define": {"name": factories.unique("invite"), "type": "invitation", "options": {}}},
        {
            "define": {
                "name": factories.unique("invite-prompt"),
                "type": "prompt",
                "options": {"fields": SIGNUP_FIELDS},
            }
        },
        {
            "define": {
                "name": factories.unique("invite-write"),
                "type": "user_write",
                "options": {"create_users_as_inactive": confirm_by_mail},
            },
            "invalid_response_action": "restart",
        },
    ]
    if confirm_by_mail:
        stages += [
            {
                "define": {
                    "name": factories.unique("invite-email"),
                    "type": "email",
                    "options": {"activate_user_on_success": True},
                }
            },
            {"define": {"name": factories.unique("invite-login"), "type": "user_login"}},
        ]
    return factories.make_flow(stages, designation="enrollment")


def guest(number: int) -> dict:
    return {
        "username": f"guest{number}",
        "email": f"guest{number}@example.test",
        "password": "a long guest password",
    }


def count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def guests(app) -> int:
    return count(app, User, User.username.like("guest%"))


@pytest.fixture
def invited(app, new_visitor):
    """(flow slug, visitor just past the invitation stage), for each kind of sign-up flow."""

    def make(confirm_by_mail: bool):
        with app.app_context():
            slug = invited_signup_flow(confirm_by_mail)
            _, token = create_invitation(flow_slug=slug, single_use=True)
            db.session.commit()
        visitor = new_visitor()
        visitor.get(f"/flow/{slug}/", params={"itoken": token})
        visitor.submit(slug, {"itoken": token})  # the hidden field the page carries
        assert visitor.stage == "prompt"
        return slug, visitor

    return make


@pytest.mark.parametrize("confirm_by_mail", [True, False], ids=["mail-and-sign-in", "no-sign-in"])
def test_a_single_use_invitation_replayed_after_its_stage_makes_one_account(
    app, mailbox, invited, confirm_by_mail
):
    slug, visitor = invited(confirm_by_mail)
    # Copies of the cookie (and the page with its form) right after the invitation stage.
    copies = [visitor.with_cookie(visitor.cookie) for _ in range(2)]
    visitor.submit(slug, guest(1))
    assert guests(app) == 1

    for number, replayed in enumerate(copies, start=2):
        response = replayed.submit(slug, guest(number))
        assert response.status_code == 403
        assert ALREADY_DONE in replayed.text
        replayed.close()
    assert guests(app) == 1
    with app.app_context():
        (invitation,) = db.session.scalars(select(Invitation))
        assert invitation.used_at is not None
        assert db.session.scalar(select(Event.id).where(Event.action == "plan_replayed"))
    if confirm_by_mail:
        open_mailed_link(visitor, mailbox, 1)
        assert visitor.is_signed_in
        wait_for_mail()
        assert len(mailbox.messages) == 1


@pytest.mark.parametrize("confirm_by_mail", [True, False], ids=["mail-and-sign-in", "no-sign-in"])
def test_parallel_copies_of_an_invitation_plan_make_one_account(
    app, mailbox, invited, confirm_by_mail
):
    slug, visitor = invited(confirm_by_mail)
    cookie, copies = visitor.cookie, 8
    browsers = [visitor.with_cookie(cookie) for _ in range(copies)]
    start = Barrier(copies)

    def sign_up(number):
        start.wait()
        return browsers[number].submit(slug, guest(number)).status_code

    with ThreadPoolExecutor(copies) as pool:
        statuses = list(pool.map(sign_up, range(copies)))
    for browser in browsers:
        browser.close()
    assert guests(app) == 1
    # One went on (a redirect to the next step or the end), the others were told: no 500.
    assert statuses.count(303) == 1, statuses
    assert all(status in (303, 403, 503) for status in statuses), statuses
    if confirm_by_mail:
        wait_for_mail()
        assert len(mailbox.messages) == 1


def test_a_cookie_replayed_from_before_the_mail_stage_sends_no_second_mail(visitor, mailbox, alice):
    visitor.open(RECOVERY)
    before_mail = visitor.with_cookie(visitor.cookie)
    visitor.submit(RECOVERY, {"uid_field": "alice"})
    mailbox.wait_for(1)
    replayed = before_mail
    replayed.submit(RECOVERY, {"uid_field": "alice"})
    assert "If an account exists for" in replayed.text  # the same page as the first time
    replayed.close()
    wait_for_mail()
    assert len(mailbox.messages) == 1


def test_a_cookie_replayed_from_before_the_codes_cannot_replace_them(app, new_visitor, alice):
    owner = new_visitor()
    owner.sign_in("alice")
    owner.get(f"/flow/{STATIC_SETUP}/", headers=CROSS_SITE)  # a plan without codes yet
    before_codes = owner.with_cookie(owner.cookie)
    owner.submit(STATIC_SETUP, {})
    assert len(recovery_codes_on(owner.page)) == 10
    shown = code_ids(app, alice)

    replayed = before_codes
    response = replayed.submit(STATIC_SETUP, {})
    assert response.status_code == 403 and ALREADY_DONE in replayed.text
    replayed.close()
    # The codes the owner saw are still the ones that work; the replay made none.
    assert code_ids(app, alice) == shown


def code_ids(app, user_id) -> set[str]:
    with app.app_context():
        return set(
            db.session.scalars(
                select(StaticCode.code_hash).where(
                    StaticCode.user_id == user_id, StaticCode.used_at.is_(None)
                )
            )
        )


def test_a_cookie_replayed_with_the_setup_secret_cannot_save_a_second_app(
    app, new_visitor, alice, monkeypatch
):
    clock = Clock(monkeypatch)
    owner = new_visitor()
    owner.sign_in("alice")
    owner.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(owner.page))
    with_secret = owner.with_cookie(owner.cookie)
    owner.submit(TOTP_SETUP, {"code": clock.code(totp)})
    assert count(app, TotpDevice, TotpDevice.user_id == alice) == 1

    clock.advance()
    replayed = with_secret
    response = replayed.submit(TOTP_SETUP, {"code": clock.code(totp)})
    assert response.status_code == 403 and ALREADY_DONE in replayed.text
    replayed.close()
    assert count(app, TotpDevice, TotpDevice.user_id == alice) == 1
