"""The one rule for usernames and addresses that the prompt stage, the admin and the CLI share."""

import pytest

from idp.identity.usernames import (
    EMAIL_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    is_valid_email,
    is_valid_username,
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
