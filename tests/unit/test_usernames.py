"""The one rule for usernames and addresses that the prompt stage, the admin and the CLI share."""

import pytest

from idp.identity.usernames import (
    EMAIL_MAX_LENGTH,
    MIXED_SCRIPTS,
    NOT_PLAIN,
    USERNAME_MAX_LENGTH,
    is_valid_email,
    is_valid_username,
    new_username_problem,
    username_key,
)
from idp.models import User


@pytest.mark.parametrize("name", ["alice", "a.b-c_d+e@f", "Zoë", "x" * USERNAME_MAX_LENGTH])
def test_usernames_that_pass(name):
    assert is_valid_username(name)


@pytest.mark.parametrize("name", ["", "al ice", "alice!", "a/b", "x" * (USERNAME_MAX_LENGTH + 1)])
def test_usernames_that_fail(name):
    assert not is_valid_username(name)


@pytest.mark.parametrize("address", ["a@example.org", "first.last+tag@mail.example.co.uk"])
def test_addresses_that_pass(address):
    assert is_valid_email(address)


@pytest.mark.parametrize(
    "address",
    [
        "",
        "alice",
        "alice@localhost",
        "a b@example.org",
        "a@@example.org",
        "a@" + "x" * 254 + ".org",
    ],
)
def test_addresses_that_fail(address):
    assert not is_valid_email(address)


def test_the_lengths_are_the_columns_lengths():
    assert User.__table__.c.username.type.length == USERNAME_MAX_LENGTH
    assert User.__table__.c.email.type.length == EMAIL_MAX_LENGTH


# -- new names read as themselves ------------------------------------------------------------

FULL_WIDTH_ADMIN = "\uff41\uff44\uff4d\uff49\uff4e"
CYRILLIC_A_ADMIN = "\u0430dmin"  # the first letter is CYRILLIC SMALL LETTER A


@pytest.mark.parametrize(
    "name",
    [
        "alice",
        "Zoë",
        "jürgen.müller",
        "straße",
        "Ελένη",  # Greek alone
        "иван_2",  # Cyrillic alone
        "山田太郎",  # Han
        "やまだ_taro",  # Hiragana with Latin (Japanese)
        "山田タロウ",  # Han with Katakana
        "김민준99",  # Hangul with digits
        "user-42+tag@example.org",
    ],
)
def test_new_names_that_read_as_themselves(name):
    assert is_valid_username(name)
    assert new_username_problem(name) is None


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (FULL_WIDTH_ADMIN, NOT_PLAIN),
        ("\ufb01nance", NOT_PLAIN),  # the "fi" ligature
        ("henry\u2167", NOT_PLAIN),  # the Roman numeral eight, one character
        ("x\u00b2", NOT_PLAIN),  # superscript two
        ("\u01c4emal", NOT_PLAIN),  # the one-character "DŽ"
        (CYRILLIC_A_ADMIN, MIXED_SCRIPTS),
        ("p\u0430ypal", MIXED_SCRIPTS),
        ("\u03bfpenai", MIXED_SCRIPTS),  # Greek omicron
        ("ivan\u0438", MIXED_SCRIPTS),
        ("김민준やまだ", MIXED_SCRIPTS),  # Hangul and Hiragana: no writing system has both
    ],
)
def test_new_names_that_do_not(name, problem):
    assert is_valid_username(name)  # the pattern (\w) lets them through; this rule does not
    assert new_username_problem(name) == problem


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Admin", "admin"),
        (FULL_WIDTH_ADMIN, "admin"),
        ("STRASSE", "strasse"),
        ("straße", "strasse"),
        ("\ufb01nance", "finance"),
        (CYRILLIC_A_ADMIN, CYRILLIC_A_ADMIN),  # another letter, not another form of one
    ],
)
def test_the_key_is_what_a_name_reads_as(name, key):
    assert username_key(name) == key


def test_a_user_gets_the_key_of_the_name_given_and_a_new_one_on_a_rename():
    user = User(username="Admin")
    assert user.username_key == "admin"
    user.username = FULL_WIDTH_ADMIN.upper()
    assert user.username_key == "admin"
