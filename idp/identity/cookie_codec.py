"""The session cookie's payload, byte for byte what Flask writes, at less cost.

Flask's TaggedJSONSerializer walks every value of the session (a flow plan is a few dozen)
through eight type checks each, to tag tuples, bytes, dates and markup. A session that holds
only plain JSON needs no tag: it is dumped as it is, in the very same text (same JSON call,
same separators), so cookies already out there read the same. Anything else (a tuple from
a flashed message, a dict that looks like a tag) goes the tagged way, as before.
"""

from flask import json
from flask.json.tag import TaggedJSONSerializer

_SCALARS = (str, int, float, bool)


def _is_plain(value, tag_keys) -> bool:
    kind = type(value)  # exact types: a str subclass (Markup) is tagged
    if kind in _SCALARS or value is None:
        return True
    if kind is list:
        return all(_is_plain(item, tag_keys) for item in value)
    if kind is dict:
        if len(value) == 1 and next(iter(value)) in tag_keys:
            return False  # Flask escapes a dict that looks like a tag
        for key, item in value.items():
            if type(key) is not str or not _is_plain(item, tag_keys):
                return False
        return True
    return False


class CookieJSONSerializer(TaggedJSONSerializer):
    def dumps(self, value) -> str:
        if _is_plain(value, self.tags):
            return json.dumps(value, separators=(",", ":"))
        return super().dumps(value)
