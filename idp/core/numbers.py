"""Whole numbers as people and forms send them: ASCII digits only, and no more of them than a
database integer holds. An Arabic-Indic one passes str.isdigit() and int() reads it as 1; a
superscript two passes str.isdigit() and int() refuses it; twenty digits overflow SQLite's
INTEGER."""

MAX_DIGITS = 18


def whole_number(text) -> int | None:
    """The number `text` writes, or None when it is not a plain whole number."""
    if isinstance(text, str) and 0 < len(text) <= MAX_DIGITS and text.isascii() and text.isdigit():
        return int(text)
    return None
