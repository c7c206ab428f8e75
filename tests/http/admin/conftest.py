"""Admin test helpers: browsers signed in as an administrator or a plain user, and POSTs that
carry the CSRF token a real form would."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, make_user

LOGIN_FLOW = "/flow/default-authentication-flow/"


def signed_in(app, username: str):
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    return driver.client


def token_of(client) -> str:
    """A CSRF token for this browser, read from a page that has a form."""
    response = client.get("/me")
    if response.status_code != 200:
        response = client.get(LOGIN_FLOW)
    return csrf_token(response.get_data(as_text=True))


def post(client, url: str, data: dict | None = None, csrf: bool = True):
    form = dict(data or {})
    if csrf:
        form["csrf_token"] = token_of(client)
    return client.post(url, data=form)


def text(response) -> str:
    return response.get_data(as_text=True)


def events_of(app, action: str) -> list[Event]:
    with app.app_context():
        return list(db.session.scalars(select(Event).where(Event.action == action)))


@pytest.fixture
def admin_name(app) -> str:
    with app.app_context():
        return make_user(username="root", superuser=True).username


@pytest.fixture
def admin(app, admin_name):
    """A browser signed in as the administrator `root`."""
    return signed_in(app, admin_name)


@pytest.fixture
def user_id(app) -> int:
    """A plain user, `alice`."""
    with app.app_context():
        user = make_user(username="alice")
        user.name = "Alice Liddell"
        db.session.commit()
        return user.id
