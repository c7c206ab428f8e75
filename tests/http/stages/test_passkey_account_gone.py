"""An account deleted while its owner registers a passkey (the account page's Delete in another
tab, a lapsed sign-up purged): the registration ends with a clear refusal, saves nothing and
leaves nothing behind, and is never told the passkey is "already registered" or that the
request "expired"."""

import threading

import pytest
from sqlalchemy import delete, select

from idp.core.extensions import db
from idp.credentials import passkeys
from idp.identity.deletion import delete_user
from idp.models import User, WebAuthnChallenge, WebAuthnDevice
from tests.factories import PASSWORD, make_user
from tests.http.stages.test_passkeys import SETUP, app_settings  # noqa: F401 (a fixture)
from tests.soft_authenticator import SoftAuthenticator, options_on

GONE = "This account no longer exists, so no passkey was saved."


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


def answer_of(flows) -> str:
    flows.sign_in("alice", PASSWORD)
    flows.open(SETUP)
    return SoftAuthenticator().create(options_on(flows.page))


def deleted_by_another_request(app, user_id: int) -> None:
    """Delete the account as the account page does, in a request of its own (committed)."""

    def deleting():
        with app.app_context():
            delete_user(db.session.get(User, user_id))
            db.session.commit()

    other = threading.Thread(target=deleting)
    other.start()
    other.join(timeout=30)


def left_behind(app, user_id: int) -> tuple[int, int]:
    with app.app_context():
        return tuple(
            len(db.session.scalars(select(model).where(model.user_id == user_id)).all())
            for model in (WebAuthnDevice, WebAuthnChallenge)
        )


def assert_refused_cleanly(response) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 403, response.status_code
    assert GONE in page
    assert passkeys.ALREADY_REGISTERED not in page and passkeys.EXPIRED not in page


def test_an_account_deleted_after_the_request_found_it_ends_the_registration(
    app, flows, alice, monkeypatch
):
    """Deleted between this request reading the user and taking its challenge (which goes
    with the account): the registration is refused as an account that is gone, and no new
    challenge is made for it."""
    response_json = answer_of(flows)
    take_challenge = passkeys.take_challenge

    def deleted_first(*args):
        deleted_by_another_request(app, alice)
        return take_challenge(*args)

    monkeypatch.setattr(passkeys, "take_challenge", deleted_first)
    response = flows.submit(SETUP, {"name": "Key", "webauthn_response": response_json})

    assert_refused_cleanly(response)
    assert left_behind(app, alice) == (0, 0)
    # Its session went with the account: the next page asks to sign in.
    assert flows.client.get("/me").status_code in (302, 303)


def test_an_account_deleted_before_the_answer_came_ends_the_registration(app, flows, alice):
    response_json = answer_of(flows)
    deleted_by_another_request(app, alice)
    response = flows.submit(SETUP, {"name": "Key", "webauthn_response": response_json})
    assert response.status_code in (302, 303, 403), response.status_code
    page = response.get_data(as_text=True)
    assert passkeys.ALREADY_REGISTERED not in page and passkeys.EXPIRED not in page
    assert left_behind(app, alice) == (0, 0)


def test_the_account_gone_when_the_passkey_is_written_is_not_already_registered(
    app, flows, alice, monkeypatch
):
    """The database refuses the passkey of an account that is gone (a foreign key, not the
    unique credential id). Another request's deletion waits for this one's challenge, so the
    row is removed here in the request's own transaction, just before the passkey is."""
    response_json = answer_of(flows)
    handle = passkeys.user_handle

    def gone_first(user):
        db.session.execute(delete(User).where(User.id == user.id))
        return handle(user)

    monkeypatch.setattr(passkeys, "user_handle", gone_first)
    response = flows.submit(SETUP, {"name": "Key", "webauthn_response": response_json})

    assert_refused_cleanly(response)
    assert left_behind(app, alice) == (0, 0)
