"""What a username and an email address may look like. One rule for every place that takes
one: the prompt stage's fields, the admin's user forms and `idp users create`."""

import re
import unicodedata

USERNAME_PATTERN = r"^[\w.@+-]+\Z"
# Not in an address: what a mail header reads as syntax ("a,bob@example.org" is two
# recipients there, "a<bob@example.org>" another one), control characters, and the invisible
# ones that reorder or hide text (U+202E shows what follows it backwards).
_NOT_IN_EMAIL = r"@\s,;:<>()\[\]\\\"\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
# Nor what a mail header reads otherwise: an encoded word ("=?utf-8?q?bob?=@x" is read as
# bob@x) or an empty label in the domain ("a@x..org", "a@x.org." are read as no address).
_ENCODED_WORD = r"=\?[^?\s]*\?[qQbB]\?.*\?="
_LABEL = rf"[^{_NOT_IN_EMAIL}.]+"
EMAIL_PATTERN = rf"^(?!.*{_ENCODED_WORD})[^{_NOT_IN_EMAIL}]+@{_LABEL}(?:\.{_LABEL})+\Z"
# The lengths of the users table's columns (idp.models.User).
USERNAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 200


def is_valid_username(value: str) -> bool:
    return len(value) <= USERNAME_MAX_LENGTH and re.match(USERNAME_PATTERN, value) is not None


def is_valid_email(value: str) -> bool:
    return len(value) <= EMAIL_MAX_LENGTH and re.match(EMAIL_PATTERN, value) is not None


def is_one_line(value: str) -> bool:
    """No line break nor other control character: what a name or a title may hold."""
    return not any(unicodedata.category(character) in ("Cc", "Zl", "Zp") for character in value)
