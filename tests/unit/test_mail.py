"""The mail service against a real SMTP server on loopback, outside any request."""

import logging

import pytest
from aiosmtpd.smtp import AuthResult

from idp.core.mail import build_message, send_mail, wait_for_mail
from tests.smtp_server import free_port, running_smtp_server, text_of


@pytest.fixture
def mail_logs():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("idp.core.mail")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def accept_only(login: bytes, password: bytes):
    def authenticate(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=(auth_data.login, auth_data.password) == (login, password))

    return authenticate


def test_a_mail_has_text_and_html_and_the_configured_sender():
    message = build_message("idp@example.test", "a@example.test", "Hi", "plain", "<p>rich</p>")
    assert message["From"] == "idp@example.test"
    assert message["Message-ID"].endswith("@example.test>")
    assert message.get_body(preferencelist=("plain",)).get_content().strip() == "plain"
    assert "<p>rich</p>" in message.get_body(preferencelist=("html",)).get_content()


def test_outside_a_request_the_mail_leaves_at_once(app, monkeypatch):
    with running_smtp_server(monkeypatch) as mailbox, app.app_context():
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port, SMTP_FROM="g@x.test")
        send_mail("someone@example.test", "Hello", "Hello there", None)
        wait_for_mail()
    (message,) = mailbox.messages
    # The product name is the sender's name when IDP_SMTP_FROM gives none (idp.brand).
    assert message["To"] == "someone@example.test"
    assert message["From"] == "Gatehouse <g@x.test>"
    assert text_of(message).strip() == "Hello there"


# Plain AUTH on loopback is what this test needs; aiosmtpd warns about it anywhere else.
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_smtp_user_signs_in_before_sending(app, monkeypatch, mail_logs):
    authenticator = accept_only(b"gatehouse", b"s3cret")
    with (
        running_smtp_server(
            monkeypatch, authenticator=authenticator, auth_required=True, auth_require_tls=False
        ) as mailbox,
        app.app_context(),
    ):
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port)
        app.config.update(SMTP_USER="gatehouse", SMTP_PASSWORD="s3cret")
        send_mail("a@example.test", "Signed in", "text")
        wait_for_mail()
    assert [message["Subject"] for message in mailbox.messages] == ["Signed in"]
    assert [record.getMessage() for record in mail_logs] == ["mail sent"]


def test_an_unreachable_server_is_logged_not_raised(app, mail_logs):
    with app.app_context():
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port())
        send_mail("a@example.test", "Lost", "text")
        wait_for_mail()
    (record,) = mail_logs
    assert record.levelno == logging.WARNING and record.to == "a@example.test"


def test_in_a_request_the_mail_is_made_and_sent_only_once_the_response_is_sent(app, monkeypatch):
    from idp.core import mail

    # The test client does not close responses by itself: the wait is long enough here
    # that only the close can let the mail go.
    monkeypatch.setattr(mail, "RESPONSE_SENT_TIMEOUT_SECONDS", 30)
    built = []
    monkeypatch.setattr(
        mail, "build_message", lambda *args: built.append(args) or build_message(*args)
    )

    @app.get("/mail-test")
    def mail_test():
        send_mail("someone@example.test", "After", "sent after the response")
        return "answered"

    with running_smtp_server(monkeypatch) as mailbox:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port)
        response = app.test_client().get("/mail-test")
        assert response.get_data(as_text=True) == "answered"
        assert built == [] and mailbox.messages == []  # nothing made while answering
        response.close()  # what a WSGI server does once the body is written
        wait_for_mail()
    assert len(built) == 1
    assert [message["Subject"] for message in mailbox.messages] == ["After"]


def test_a_failed_request_sends_no_mail(app, monkeypatch):
    @app.get("/mail-then-fail")
    def mail_then_fail():
        send_mail("someone@example.test", "Never", "must not leave")
        raise RuntimeError("the request failed after the mail was asked for")

    with running_smtp_server(monkeypatch) as mailbox:
        app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=mailbox.port)
        response = app.test_client().get("/mail-then-fail")
        assert response.status_code == 500
        response.close()
        wait_for_mail()
    assert mailbox.messages == []


@pytest.mark.parametrize("line_break", ["\n", "\r\n", "\u2028", "\x85", "\x0b", "\x1e"])
def test_a_subject_with_any_line_break_still_makes_a_mail(line_break):
    """Python's mail headers refuse every line break; a brand saved before they were checked,
    or a subject filled in with someone's words, must not stop the mail."""
    message = build_message(
        "idp@example.test", "a@example.test", f"Your link{line_break}  here", "plain", None
    )
    assert message["Subject"] == "Your link here"
