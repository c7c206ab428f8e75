"""What a username and an email address may look like. One rule for every place that takes
one: the prompt stage's fields, the admin's user forms, invitations and `idp users create`.

A new username must also read as itself (new_username_problem), after UTS #39 and RFC 8265
(PRECIS UsernameCaseMapped): it is unchanged by NFKC, so no full-width letter, ligature or
other compatibility form; and its letters come from one script, as UTS #39's "highly
restrictive" level has it (Latin may join Han with Kana, Bopomofo or Hangul), so no Cyrillic
"a" (U+0430) inside a Latin "admin". Names taken before these rules keep working as they are; a new
name is taken when an account's username_key (NFKC, case folded) is the same.
"""

import functools
import re
import unicodedata

from idp.core.i18n import N_
from idp.models.users import username_key

__all__ = ["username_key"]

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


NOT_PLAIN = N_(
    "Type the username in plain characters: full-width letters, ligatures and other "
    "special forms of characters cannot be used."
)
MIXED_SCRIPTS = N_(
    "Use letters of one alphabet only: a username cannot mix, say, Latin and Cyrillic "
    "letters, which look alike."
)
# Scripts told apart (Script_Extensions, so a mark shared by Hiragana and Katakana belongs to
# both). A letter of a script not listed here counts as a script of its own.
SCRIPTS = [
    "Latin",
    "Greek",
    "Cyrillic",
    "Armenian",
    "Hebrew",
    "Arabic",
    "Syriac",
    "Thaana",
    "Nko",
    "Devanagari",
    "Bengali",
    "Gurmukhi",
    "Gujarati",
    "Oriya",
    "Tamil",
    "Telugu",
    "Kannada",
    "Malayalam",
    "Sinhala",
    "Thai",
    "Lao",
    "Tibetan",
    "Myanmar",
    "Georgian",
    "Hangul",
    "Ethiopic",
    "Cherokee",
    "Canadian_Aboriginal",
    "Ogham",
    "Runic",
    "Khmer",
    "Mongolian",
    "Hiragana",
    "Katakana",
    "Bopomofo",
    "Han",
    "Yi",
    "Tifinagh",
    "Coptic",
    "Glagolitic",
    "Vai",
    "Javanese",
    "Balinese",
    "Sundanese",
    "Ol_Chiki",
    "Adlam",
    "Osage",
    "Tai_Le",
    "Tai_Tham",
    "Tai_Viet",
    "Cham",
    "Lisu",
    "Bamum",
]
# What UTS #39 lets mix at its "highly restrictive" level besides one script alone.
ALLOWED_MIXES = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)


def new_username_problem(value: str) -> str | None:
    """Why `value` cannot be a new username though it matches USERNAME_PATTERN (an English
    message, marked for translation), or None."""
    if unicodedata.normalize("NFKC", value) != value:
        return NOT_PLAIN
    if not is_one_script(value):
        return MIXED_SCRIPTS
    return None


def is_one_script(value: str) -> bool:
    """The letters and digits of `value` come from one script, or from a mix UTS #39 allows;
    digits and signs shared by every script (0-9 . @ + - _) and combining marks count for none."""
    letters = [scripts for scripts in map(_scripts_of, value) if scripts]
    if not letters or frozenset.intersection(*letters):
        return True
    return any(all(scripts & mix for scripts in letters) for mix in ALLOWED_MIXES)


def _scripts_of(character: str) -> frozenset:
    patterns = _script_patterns().items()
    scripts = frozenset(name for name, pattern in patterns if pattern.match(character))
    if scripts or not unicodedata.category(character).startswith("L"):
        return scripts
    return frozenset({"other:" + unicodedata.name(character, "?").split(" ")[0]})


@functools.cache
def _script_patterns() -> dict:
    # Loaded with the first new name: a worker that only signs people in never needs regex.
    import regex

    return {name: regex.compile(rf"\p{{scx={name}}}") for name in SCRIPTS}
