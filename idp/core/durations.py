"""Durations written as in `30m`, `8h`, `1d12h`, `2w`."""

import re
from datetime import timedelta

from idp.core.i18n import N_, Sentence

_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
LONGEST = timedelta(days=36525)


def parse_duration(text: str) -> timedelta:
    text = text.strip().lower()
    if not text or _PART.sub("", text):
        # A Sentence: the admin shows it in its language (OptionsError keeps it whole).
        raise ValueError(
            Sentence(N_("%(text)s is not a duration like 30m, 8h, 1d12h or 2w"), text=repr(text))
        )
    total = timedelta()
    try:
        for amount, unit in _PART.findall(text):
            total += timedelta(**{_UNITS[unit]: int(amount)})
    except OverflowError:
        total = LONGEST + LONGEST
    if total > LONGEST:
        # Added to today's date, a longer one would leave the calendar (year 9999).
        raise ValueError(Sentence(N_("%(text)s is longer than 100 years"), text=repr(text)))
    return total
