"""Forms that ask for a new password: the rules are shown before the first try, every problem
of an answer is reported at once, and the passwords typed stay in their fields when only
another field was wrong (in that POST's own answer, never in a page fetched later)."""

import re

import pytest

from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user

ENROLLMENT = "default-enrollment-flow"
CHANGE = "default-password-change"
SETUP = "initial-setup"
GOOD = "violet kettle marches north"


def rules_of(page: str, key: str = "password") -> list[str]:
    listing = re.search(rf'<ul class="help rules" id="{key}-rules">(.*?)</ul>', page, re.S)
    assert listing, f"no rules under {key}"
    return re.findall(r"<li>([^<]+)</li>", listing.group(1))


def answers(**changes) -> dict:
    return {
        "username": "newbie",
        "name": "New Bie",
        "email": "newbie@example.test",
        "password": GOOD,
        "password_repeat": GOOD,
        **changes,
    }


def shown_password_values(page: str) -> list[str]:
    inputs = re.findall(r'<input[^>]*type="password"[^>]*>', page)
    return [
        match.group(1) for match in (re.search(r'value="([^"]*)"', tag) for tag in inputs) if match
    ]


def test_sign_up_shows_the_password_rules_before_the_first_try(flows):
    flows.open(ENROLLMENT)
    rules = rules_of(flows.page)
    assert rules[0] == "At least 8 characters"
    assert "Not a common password" in rules
    assert 'aria-describedby="password-rules"' in flows.page


def test_setup_shows_the_password_rules(app, flows):
    flows.open(SETUP)
    assert rules_of(flows.page)[0] == "At least 8 characters"


def test_password_change_shows_the_rules_of_its_new_password(app):
    with app.app_context():
        make_user("cleo")
    driver = FlowDriver(app.test_client())
    driver.sign_in("cleo", PASSWORD)
    driver.open(CHANGE)
    driver.submit(CHANGE, {"password": PASSWORD})
    assert driver.stage == "prompt"
    assert "At least 8 characters" in rules_of(driver.page)


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_every_problem_of_a_sign_up_is_reported_at_once(flows, htmx):
    flows.open(ENROLLMENT)
    response = flows.submit(
        ENROLLMENT,
        answers(username="", email="not an address", password="short", password_repeat="other"),
        htmx=htmx,
    )
    assert response.status_code == (200 if htmx else 400)
    text = " ".join(flows.text.split())
    assert "Username is required." in text
    assert "valid email address" in text
    assert "Use at least 8 characters." in text
    assert "The passwords do not match." in text


@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_passwords_stay_when_only_another_field_was_wrong(flows, htmx):
    flows.open(ENROLLMENT)
    flows.submit(ENROLLMENT, answers(email="not an address"), htmx=htmx)
    assert "valid email address" in flows.text
    assert shown_password_values(flows.page) == [GOOD, GOOD]
    # Only in that answer: the page fetched afterwards holds no password.
    page = flows.client.get(f"/flow/{ENROLLMENT}/").get_data(as_text=True)
    assert GOOD not in page

    flows.page = page
    flows.submit(ENROLLMENT, answers())
    assert flows.stage == "email"


@pytest.mark.parametrize(
    "changes",
    [
        {"password": "short", "password_repeat": "short"},
        {"password_repeat": GOOD + " typo"},
        {"email": "not an address", "password": "password", "password_repeat": "password"},
    ],
    ids=["refused", "mismatched", "refused-with-another-problem"],
)
def test_a_password_with_a_problem_of_its_own_is_never_shown_back(flows, changes):
    flows.open(ENROLLMENT)
    flows.submit(ENROLLMENT, answers(**changes))
    assert flows.stage == "prompt"
    assert shown_password_values(flows.page) in ([], ["", ""])
