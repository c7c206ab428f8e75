"""What the OpenID Connect tests share: a user to sign in, and a browser without JavaScript
pointed at the live server. A test module may define its own."""

import pytest

from tests.factories import make_user
from tests.http.applications.oidc import Browser


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").username


@pytest.fixture
def visitor(live_server):
    visitor = Browser(live_server.url)
    yield visitor
    visitor.close()
