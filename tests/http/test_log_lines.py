"""What someone typed (a sign-in name, a path) stays one log line, in text and in JSON: a
line break in it can never make a line of its own look like the app's."""

import io
import json
import logging
import re

import pytest

from idp.core.logs import JsonFormatter, RequestIdFilter, TextFormatter
from tests.conftest import FlowDriver
from tests.factories import make_user

FAKE = "12:00:00 info idp.core.events: event recorded action=login username=admin"
TYPED = f"ghost\n{FAKE}\r\u2028x\u202e\x00 ip=10.0.0.1"
LINE_START = re.compile(r"\d\d:\d\d:\d\d (debug|info|warning|error|critical) idp\.")


def captured(formatter):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    return stream, handler


@pytest.fixture
def logs():
    text, text_handler = captured(TextFormatter())
    json_, json_handler = captured(JsonFormatter())
    logger = logging.getLogger("idp")
    logger.addHandler(text_handler)
    logger.addHandler(json_handler)
    yield text, json_
    logger.removeHandler(text_handler)
    logger.removeHandler(json_handler)


def test_a_typed_name_with_line_breaks_stays_on_its_line(app, logs):
    with app.app_context():
        make_user("alice")
    FlowDriver(app.test_client()).sign_in(TYPED.replace("\x00", ""), "wrong password here")
    text, json_ = (stream.getvalue() for stream in logs)
    lines = text.splitlines()
    assert any("action=login_failed" in line for line in lines)
    assert all(LINE_START.match(line) for line in lines), lines
    failed = next(line for line in lines if "action=login_failed" in line)
    assert 'username="ghost\\n12:00:00 info' in failed
    assert '\\r\\u2028x\\u202e ip=10.0.0.1"' in failed
    assert " ip=10.0.0.1 " not in failed  # the typed "ip=" is inside the quotes
    entries = [json.loads(line) for line in json_.splitlines()]
    (entry,) = [entry for entry in entries if entry.get("action") == "login_failed"]
    assert entry["username"] == TYPED.replace("\x00", "")
