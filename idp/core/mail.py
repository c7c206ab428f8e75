"""Sending mail: SMTP with the IDP_SMTP_* settings, or the log when no SMTP host is set.

Mail leaves in a background thread, so a page never waits for the SMTP server, and how long
it takes does not tell whether a mail was sent at all. Inside a request the thread starts
once the response is ready, and only if the request did not fail: a mail never points at a
token that was rolled back. It builds the message and talks to the SMTP server only after the
response has been sent (the WSGI server closes it), so none of that work can slow down the
answer to a request that mails (a real account) against one that does not (an unknown name).
A failed delivery is logged; the visitor never sees it.
"""

import contextvars
import logging
import re
import threading
from dataclasses import dataclass, replace
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from flask import after_this_request, current_app, has_request_context

from idp.brand.settings import current_brand

log = logging.getLogger("idp.core.mail")

SMTP_TIMEOUT_SECONDS = 30
# How long a mail waits for its response to be sent before it leaves anyway: a server that
# never closes a response (Werkzeug's test client does not) must not hold the mail for good.
RESPONSE_SENT_TIMEOUT_SECONDS = 0.1

_pending: set[threading.Thread] = set()
_pending_lock = threading.Lock()


@dataclass(frozen=True)
class SmtpSettings:
    """Read from the app's config in the request, so the sending thread needs no app."""

    host: str
    port: int
    user: str
    password: str
    sender: str
    tls: str

    @classmethod
    def from_config(cls, config) -> "SmtpSettings":
        return cls(
            config["SMTP_HOST"],
            config["SMTP_PORT"],
            config["SMTP_USER"],
            config["SMTP_PASSWORD"],
            config["SMTP_FROM"],
            config["SMTP_TLS"],
        )


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None


def send_mail(to: str, subject: str, text: str, html: str | None = None) -> None:
    """Send a mail (plain text, and HTML as an alternative) without waiting for it."""
    settings = SmtpSettings.from_config(current_app.config)
    settings = replace(settings, sender=branded_sender(settings.sender))
    if not settings.host:
        # Laptop mode: nobody configured a mail server, so the mail is shown in the log.
        log.info("mail not sent (no IDP_SMTP_HOST), here it is", extra={"to": to, "text": text})
        return
    mail = Mail(to, subject, text, html)
    if not has_request_context():
        _start(settings, mail, None)
        return
    response_sent = threading.Event()

    @after_this_request
    def start_when_the_request_succeeded(response):
        if response.status_code < 500:
            _start(settings, mail, response_sent)
            response.call_on_close(response_sent.set)
        return response


def branded_sender(sender: str) -> str:
    """IDP_SMTP_FROM's address under the brand's sender name; without one, under the name
    IDP_SMTP_FROM gives, else the product name."""
    configured_name, address = parseaddr(sender)
    brand = current_brand()
    name = brand.mail_sender_name or configured_name or brand.product_name
    return formataddr((one_header_line(name), address)) if address else sender


def one_header_line(value: str) -> str:
    """A header value with every line break and run of spaces made one space: Python's mail
    headers refuse any line break (\u2028 as much as \n), and a refused header is a mail
    never sent. The brand's values are checked when they are saved; one saved before, or a
    subject filled in with someone's words, is mended here.

    Text that looks like an RFC 2047 encoded word ("=?utf-8?q?...?=") gets a space after its
    "=": Python's headers decode such text when it is set, and write what it decodes to as it
    is, so "=?utf-8?q?=0D=0ABcc:...?=" would add a header of its own (and any look-alike would
    be shown decoded, not as written)."""
    return _ENCODED_WORD_START.sub("= ?", " ".join(value.split()))


# The "=?" that starts something Python would decode: =?charset?q?text?= (or ?b?).
_ENCODED_WORD_START = re.compile(r"=\?(?=[^?\s]*\?[qQbB]\?.*?\?=)")


class UnsafeRecipient(ValueError):
    """The stored address would read as another address, or several, in a To header."""


def build_message(sender: str, to: str, subject: str, text: str, html: str | None):
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    # An address such as "a,bob@example.org" (one to a form's pattern) is two recipients to
    # a mail header: send to the one address, or not at all.
    if [address.addr_spec for address in message["To"].addresses] != [to]:
        raise UnsafeRecipient(to)
    message["Subject"] = one_header_line(subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message


def wait_for_mail(timeout: float = 10) -> None:
    """Wait until every mail started so far has been handed over (or failed). For tests."""
    with _pending_lock:
        threads = list(_pending)
    for thread in threads:
        thread.join(timeout)


def _start(settings: SmtpSettings, mail: Mail, response_sent: threading.Event | None) -> None:
    # The request's context goes along, so the thread's log lines carry its request id.
    context = contextvars.copy_context()
    thread = threading.Thread(
        target=context.run,
        args=(_deliver, settings, mail, response_sent),
        name="mail",
        daemon=True,
    )
    with _pending_lock:
        _pending.add(thread)
    thread.start()


def _deliver(settings: SmtpSettings, mail: Mail, response_sent: threading.Event | None) -> None:
    # smtplib and ssl are loaded only by a worker that sends mail.
    import smtplib
    import ssl

    if response_sent is not None:
        response_sent.wait(RESPONSE_SENT_TIMEOUT_SECONDS)
    details = {"to": mail.to, "subject": mail.subject}
    try:
        message = build_message(settings.sender, mail.to, mail.subject, mail.text, mail.html)
        with _connect(settings) as smtp:
            if settings.tls == "starttls":
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password)
            smtp.send_message(message, to_addrs=[mail.to])
    except (OSError, smtplib.SMTPException, UnsafeRecipient) as error:
        log.warning("mail could not be sent", extra={**details, "error": str(error)[:300]})
    except Exception:
        log.exception("mail could not be sent", extra=details)
    else:
        log.info("mail sent", extra=details)
    finally:
        with _pending_lock:
            _pending.discard(threading.current_thread())


def _connect(settings: SmtpSettings):
    import smtplib
    import ssl

    if settings.tls == "ssl":
        return smtplib.SMTP_SSL(
            settings.host,
            settings.port,
            timeout=SMTP_TIMEOUT_SECONDS,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_SECONDS)
