"""Reading typed answers from text: what a form field accepts and what an option may preset.

Each parser takes stripped text and returns a JSON-safe value, or raises ValueError.
"""

import re
from datetime import datetime

NUMBER_PATTERN = re.compile(r"-?\d{1,15}(\.\d{1,10})?")
DATE_FORMAT = "%Y-%m-%d"
# What <input type="datetime-local"> sends: minutes, or seconds when its step asks for them.
DATE_TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
CHECKED = {"true": True, "false": False, "": False}


def parse_number(text: str) -> int | float:
    """A plain decimal number, no exponent: 15 digits before the point, 10 after at most."""
    if not NUMBER_PATTERN.fullmatch(text):
        raise ValueError(text)
    return float(text) if "." in text else int(text)


def parse_date(text: str) -> str:
    return datetime.strptime(text, DATE_FORMAT).date().isoformat()


def parse_date_time(text: str) -> str:
    for layout in DATE_TIME_FORMATS:
        try:
            moment = datetime.strptime(text, layout)
        except ValueError:
            continue
        return moment.isoformat(timespec="seconds" if moment.second else "minutes")
    raise ValueError(text)


def parse_checked(text: str) -> bool:
    try:
        return CHECKED[text.lower()]
    except KeyError:
        raise ValueError(text) from None
