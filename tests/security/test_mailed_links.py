"""Mailed links point only where they should: an attacker who asks for a victim's recovery
link with their own Host header must not have the victim mailed a link to the attacker's host
(reset link poisoning)."""

import logging

import pytest

from idp.core.mail import wait_for_mail
from tests import factories
from tests.smtp_server import link_in

RECOVERY = "default-recovery-flow"
EVIL_HOST = {"Host": "evil.example"}


def ask_for_recovery_as(visitor, headers):
    visitor.http.headers.update(headers)
    visitor.open(RECOVERY)
    visitor.submit(RECOVERY, {"uid_field": "alice"})


@pytest.fixture
def mail_errors():
    records = []
    handler = logging.Handler(level=logging.ERROR)
    handler.emit = records.append
    logger = logging.getLogger("idp.core.mail")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_without_a_base_url_a_foreign_host_gets_no_link_mailed(
    visitor, mailbox, alice, mail_errors
):
    ask_for_recovery_as(visitor, EVIL_HOST)
    assert "If an account exists for" in visitor.text  # the same page as ever
    wait_for_mail()
    assert not any("evil.example" in message.as_string() for message in mailbox.messages)
    assert mailbox.messages == []
    assert [record.getMessage() for record in mail_errors] == [
        "no mail sent: set IDP_BASE_URL, links cannot be built from this Host header"
    ]


def test_without_a_base_url_this_machine_gets_its_link(visitor, mailbox, alice, server):
    ask_for_recovery_as(visitor, {})
    assert link_in(mailbox.wait_for(1)[0]).startswith(server.url + "/flow/email/")


def test_with_a_base_url_the_link_points_there_whatever_the_host(app, visitor, mailbox, alice):
    app.config["BASE_URL"] = "https://id.example.org"
    ask_for_recovery_as(visitor, EVIL_HOST)
    assert link_in(mailbox.wait_for(1)[0]).startswith("https://id.example.org/flow/email/")


def test_an_admin_recovery_link_is_refused_too_without_a_base_url(app, new_visitor, mailbox, alice):
    with app.app_context():
        factories.make_user("root", superuser=True)
    admin = new_visitor()
    admin.sign_in("root")
    admin.get(f"/admin/users/{alice}")
    response = admin.post(f"/admin/users/{alice}/recovery-link", {}, headers=EVIL_HOST)
    if response.status_code == 303:
        admin.get(f"/admin/users/{alice}")
    assert "Set IDP_BASE_URL first: mailed links are built from it." in admin.text
    wait_for_mail()
    assert mailbox.messages == []
