"""Durations written as in `30m`, `8h`, `1d12h`, `2w`."""

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    text = text.strip().lower()
    if not text or _PART.sub("", text):
        raise ValueError(f"{text!r} is not a duration like 30m, 8h, 1d12h or 2w")
    total = timedelta()
    for amount, unit in _PART.findall(text):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total
