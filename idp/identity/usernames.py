"""What a username and an email address may look like. One rule for every place that takes
one: the prompt stage's fields, the admin's user forms and `idp users create`."""

import re

USERNAME_PATTERN = r"^[\w.@+-]+\Z"
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+\Z"
# The lengths of the users table's columns (idp.models.User).
USERNAME_MAX_LENGTH = 150
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 200


def is_valid_username(value: str) -> bool:
    return len(value) <= USERNAME_MAX_LENGTH and re.match(USERNAME_PATTERN, value) is not None


def is_valid_email(value: str) -> bool:
    return len(value) <= EMAIL_MAX_LENGTH and re.match(EMAIL_PATTERN, value) is not None
