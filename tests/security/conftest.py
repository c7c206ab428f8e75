"""The security suite: each test talks HTTP to the app served on a free loopback port, as an
attacker on the network would, with a real SMTP server on loopback for the mailed links.

A self-hoster can read these files as the proof of what DESIGN.md promises.
"""

import logging

import pytest

from idp.core.logs import JsonFormatter
from tests import factories
from tests.security.visitor import Visitor

# A realistic bcrypt cost: at 4 a check takes no time, so a missing dummy hash would not show.
BCRYPT_ROUNDS = 8


@pytest.fixture
def app_settings():
    return {"BCRYPT_ROUNDS": BCRYPT_ROUNDS}


@pytest.fixture
def app(mailbox, app):
    """The shared app, made after the SMTP server so that it sends mail there."""
    return app


@pytest.fixture
def server(live_server):
    return live_server


@pytest.fixture
def new_visitor(server):
    """Makes browsers (each its own cookie jar) for the served app."""
    visitors = []

    def make(**kwargs) -> Visitor:
        visitor = Visitor(server, **kwargs)
        visitors.append(visitor)
        return visitor

    yield make
    for visitor in visitors:
        visitor.close()


@pytest.fixture
def visitor(new_visitor):
    return new_visitor()


@pytest.fixture
def alice(app):
    with app.app_context():
        return factories.make_user("alice", email="alice@example.test").id


@pytest.fixture
def app_logs():
    """Every line the app logs during the test, formatted as IDP_LOG_FORMAT=json writes it
    (with its extra fields)."""
    lines = []
    handler = logging.Handler(level=logging.DEBUG)
    handler.emit = lambda record: lines.append(JsonFormatter().format(record))
    logger = logging.getLogger("idp")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lines
    logger.removeHandler(handler)
    logger.setLevel(level)
