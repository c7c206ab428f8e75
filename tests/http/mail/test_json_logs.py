"""Logs as JSON: one object per line, each with the request's id, and never a password, a
mailed token, a TOTP secret or a code, through sign-in, recovery by mail link and TOTP."""

import io
import json
import logging
import re
import time
from urllib.parse import urlsplit

import pyotp
import pytest

from idp.core.extensions import db
from idp.core.logs import JsonFormatter, RequestIdFilter
from idp.core.mail import wait_for_mail
from idp.credentials import authenticators
from idp.models import User
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user

LOGIN = "default-authentication-flow"
RECOVERY = "default-recovery-flow"
NEW_PASSWORD = "violet kettle marches north"
WRONG_PASSWORD = "plum umbrella sings quietly"


@pytest.fixture
def json_log():
    """The app's own JSON formatter and request-id filter, writing to a string."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("idp")
    logger.addHandler(handler)
    yield stream
    logger.removeHandler(handler)


@pytest.fixture
def totp_secret(app):
    secret = authenticators.new_totp_secret()
    with app.app_context():
        user = make_user("alice", email="alice@example.test")
        earlier = pyotp.TOTP(secret).at(time.time() - 30)
        assert authenticators.add_totp_device(
            db.session.get(User, user.id), secret, authenticators.TotpSettings(), earlier
        )
        db.session.commit()
    return secret


def test_sign_in_recovery_and_totp_log_json_lines_without_any_secret(
    app, mailbox, json_log, totp_secret
):
    typed = [WRONG_PASSWORD, PASSWORD, NEW_PASSWORD, totp_secret]
    browser = FlowDriver(app.test_client())
    browser.sign_in("alice", WRONG_PASSWORD)
    browser.open(RECOVERY)
    browser.submit(RECOVERY, {"uid_field": "alice"})
    link = mailbox.last_link()
    token = urlsplit(link).path.rsplit("/", 1)[-1]
    phone = FlowDriver(app.test_client())
    phone.client.get(urlsplit(link).path)
    phone.open(RECOVERY)
    phone.submit(RECOVERY, {"code": "000000"})
    code = pyotp.TOTP(totp_secret).now()
    phone.submit(RECOVERY, {"code": code})
    assert phone.stage == "prompt"
    phone.submit(RECOVERY, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert phone.client.get("/me").status_code == 200
    wait_for_mail()

    lines = json_log.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert all(re.fullmatch(r"[0-9a-f]{32}", entry.get("request_id", "")) for entry in entries)
    text = json_log.getvalue()
    for secret in [*typed, token, code]:
        assert secret not in text, f"{secret!r} is in the log"
    answered = [entry for entry in entries if entry["message"] == "stage answered"]
    assert {(entry["flow"], entry["stage_type"], entry["outcome"]) for entry in answered} >= {
        (LOGIN, "password", "retry"),
        (RECOVERY, "authenticator_validate", "retry"),
        (RECOVERY, "authenticator_validate", "advance"),
        (RECOVERY, "prompt", "advance"),
    }
    assert any(entry["message"] == "mail sent" for entry in entries)
    completed = [entry for entry in entries if entry["message"] == "flow completed"]
    assert [(entry["flow"], entry["user"]) for entry in completed] == [(RECOVERY, "alice")]
