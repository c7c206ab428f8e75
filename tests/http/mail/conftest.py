"""Tests that read the mail the app sends: a real SMTP server on loopback for each test."""

import pytest

from tests.conftest import MailProgramBrowser


@pytest.fixture
def app(mailbox, app):
    """The shared app, made after the SMTP server so that it sends mail there."""
    return app


@pytest.fixture(autouse=True)
def _links_open_as_from_a_mail_program(app):
    app.test_client_class = MailProgramBrowser
