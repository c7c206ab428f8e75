"""A real SMTP server on loopback (aiosmtpd) that keeps every message it receives.

Use `running_smtp_server(monkeypatch)` in a fixture that runs before the `app` fixture: it
sets IDP_SMTP_HOST and IDP_SMTP_PORT, which the app reads when it is made.
"""

import re
import socket
import threading
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default

from aiosmtpd.controller import Controller

from idp.core.mail import wait_for_mail

LINK_PATTERN = re.compile(r"https?://[^\s\"<>]+/flow/email/[A-Za-z0-9_-]+")


class Mailbox:
    """The aiosmtpd handler: keeps the messages and lets a test wait for them."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []  # each message's envelope (RCPT TO)
        self.port = 0
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.content, policy=default)
        with self._arrived:
            self.messages.append(message)
            self.recipients.append(list(envelope.rcpt_tos))
            self._arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """At least `count` messages, waiting for them to arrive (mail is sent in a thread)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.messages) >= count, timeout)
        assert arrived, f"expected {count} mail(s), got {len(self.messages)}"
        return list(self.messages)

    def last_link(self) -> str:
        return link_in(self.wait_for()[-1])


def text_of(message: EmailMessage) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message: EmailMessage) -> str:
    match = LINK_PATTERN.search(text_of(message))
    assert match, "no link in the mail"
    return match.group(0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_smtp_server(monkeypatch, **controller_options):
    """The server, started; `controller_options` go to aiosmtpd (an authenticator, say)."""
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port(), **controller_options)
    controller.start()
    mailbox.port = controller.port
    monkeypatch.setenv("IDP_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("IDP_SMTP_PORT", str(controller.port))
    try:
        yield mailbox
    finally:
        wait_for_mail()
        controller.stop()
