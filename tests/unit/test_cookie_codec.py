"""The session cookie's payload is the very text Flask's own serializer writes, whatever the
session holds, so cookies written before and after read alike."""

import uuid
from datetime import UTC, datetime

import pytest
from flask.json.tag import TaggedJSONSerializer
from markupsafe import Markup

from idp.identity.cookie_codec import CookieJSONSerializer

PLAN = {
    "flow_slug": "default-authentication-flow",
    "fingerprint": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    "bindings": [3, 4, 5, 6],
    "expires_at": 1764750000.125,
    "next_url": '/me?tab=ünïcode&x="quoted"',
    "position": 1,
    "context": {"uid": "Zoë", "pending_user_id": None, "uid_fields": ["username", "email"]},
    "plan_id": "Yq3tT0gJ8b6rK1x2m9ZQwA",
    "session_stamp": "anonymous",
}

SESSIONS = [
    {},
    {"csrf_token": "0123456789abcdef", "plans": {"default-authentication-flow": PLAN}},
    {"sid": "key", "flag": True, "off": False, "none": None, "count": 0, "ratio": -1.5e-9},
    {"nested": [[1, [2, [3, {"deep": ["x"]}]]], {}, []]},
    # What Flask tags: tuples (flashed messages), bytes, markup, dates, UUIDs...
    {"_flashes": [("info", "Saved.")]},
    {"bytes": b"\x00\xff"},
    {"markup": Markup("<b>bold</b>")},
    {"when": datetime(2026, 12, 3, 8, 0, tzinfo=UTC)},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    # ...and dicts that look like a tag, which it escapes.
    {"looks_tagged": {" t": [1, 2]}},
    {"also": {" di": {"a": 1}}},
    {"two_keys": {" t": 1, "b": 2}},
    {1: "a key that is not text"},
    {"subclass": type("Text", (str,), {})("not exactly a str")},
]


@pytest.mark.parametrize("session", SESSIONS, ids=range(len(SESSIONS)))
def test_the_cookie_payload_is_the_text_flask_writes(session):
    ours, flasks = CookieJSONSerializer(), TaggedJSONSerializer()
    assert ours.dumps(session) == flasks.dumps(session)
    assert ours.loads(ours.dumps(session)) == flasks.loads(flasks.dumps(session))
