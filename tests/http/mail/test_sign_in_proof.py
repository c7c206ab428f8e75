"""Past a long run of failures on a name, a browser the user never signed in on needs the
mailed sign-in link before a password is weighed; waiting is no longer enough.

The clock is moved with time-machine: the attacker waits out every delay, and still gets no
more than IDP_LOGIN_PROOF_AFTER guesses until the run is forgotten.
"""

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.models import FailedAttempts, FlowToken
from idp.protection import attempts
from tests import factories
from tests.conftest import FlowDriver
from tests.factories import PASSWORD
from tests.smtp_server import text_of

AUTH = "default-authentication-flow"
INVALID = "Invalid username or password."
PROOF = "we mailed it a sign-in link"
PROOF_LINK = re.compile(r"https?://[^\s\"<>]+/flow/sign-in-link/[A-Za-z0-9_-]+")


@pytest.fixture
def victim(app):
    with app.app_context():
        factories.make_user("victim", email="victim@example.test")


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


def guess(app, username, password) -> FlowDriver:
    """A stranger's browser (no device cookie) tries a password for the name."""
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, password)
    return driver


def fail_a_long_run(app, clock, username) -> None:
    """IDP_LOGIN_PROOF_AFTER wrong passwords, each after the previous wait has run out."""
    for _ in range(app.config["LOGIN_PROOF_AFTER"]):
        assert INVALID in guess(app, username, "wrong").text
        clock.shift(app.config["LOGIN_DELAY_MAX"] + 1)


def proof_links(mailbox, count: int) -> list[str]:
    return [PROOF_LINK.search(text_of(message)).group(0) for message in mailbox.wait_for(count)]


def open_link(driver: FlowDriver, link: str):
    return driver.client.get(urlsplit(link).path)


def test_past_the_run_the_right_password_from_a_new_browser_gets_a_link_not_a_wait(
    app, victim, clock, mailbox
):
    fail_a_long_run(app, clock, "victim")

    driver = guess(app, "victim", PASSWORD)

    assert PROOF in driver.text and "Try again in" not in driver.text
    assert driver.client.get("/me").status_code != 200
    assert [message["To"] for message in mailbox.wait_for(1)] == ["victim@example.test"]


def test_waiting_hours_gives_the_attacker_no_further_guess(app, victim, clock, mailbox):
    fail_a_long_run(app, clock, "victim")
    weighed = 0
    for _ in range(100):  # one every ten minutes for almost 17 hours
        clock.shift(600)
        weighed += INVALID in guess(app, "victim", "wrong").text

    assert weighed == 0
    with app.app_context():
        failures = attempts.failures_of(attempts.ACCOUNT, factories.account_of("victim"))
    assert failures == app.config["LOGIN_PROOF_AFTER"]


def test_the_run_is_forgotten_a_day_after_its_last_failure(app, victim, clock, mailbox):
    fail_a_long_run(app, clock, "victim")
    # fail_a_long_run left the clock LOGIN_DELAY_MAX + 1 s after the last failure.
    since_last_failure = app.config["LOGIN_DELAY_MAX"] + 1
    clock.shift(app.config["LOGIN_FAILURES_FORGOTTEN_AFTER"] - 1 - since_last_failure)
    assert PROOF in guess(app, "victim", "wrong").text

    clock.shift(2)

    assert INVALID in guess(app, "victim", "wrong").text


def test_the_mailed_link_lets_the_user_sign_in_in_the_browser_that_opens_it(
    app, victim, clock, mailbox
):
    fail_a_long_run(app, clock, "victim")
    driver = guess(app, "victim", PASSWORD)
    (link,) = proof_links(mailbox, 1)

    response = open_link(driver, link)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/flow/{AUTH}/")
    driver.open(AUTH)
    assert driver.stage == "password"
    driver.submit(AUTH, {"password": PASSWORD})

    assert driver.client.get("/me").status_code == 200


def test_after_the_link_passwords_are_weighed_and_throttled_per_plan(app, victim, clock, mailbox):
    fail_a_long_run(app, clock, "victim")
    driver = guess(app, "victim", PASSWORD)
    open_link(driver, proof_links(mailbox, 1)[0])
    driver.open(AUTH)
    free = app.config["LOGIN_FREE_ATTEMPTS"]

    texts = [driver.submit(AUTH, {"password": "typo"}) and driver.text for _ in range(free + 1)]

    assert all(INVALID in text for text in texts[:free])
    assert "Try again in" in texts[free]
    # The proved plan's count is in the database: a copy of its cookie starts no fresh count.
    copy = FlowDriver(app.test_client())
    copy.client.set_cookie("gatehouse_session", driver.client.get_cookie("gatehouse_session").value)
    copy.page = driver.page
    copy.submit(AUTH, {"password": "typo"})
    assert "Try again in" in copy.text
    clock.shift(app.config["LOGIN_DELAY_MAX"] + 1)
    driver.submit(AUTH, {"password": PASSWORD})
    assert driver.client.get("/me").status_code == 200
    with app.app_context():
        # The name's run stays: the next new browser needs a link of its own.
        failures = attempts.failures_of(attempts.ACCOUNT, factories.account_of("victim"))
    assert failures == app.config["LOGIN_PROOF_AFTER"]


def test_the_link_works_once_and_an_old_cookie_replayed_still_needs_proof(
    app, victim, clock, mailbox
):
    fail_a_long_run(app, clock, "victim")
    driver = guess(app, "victim", PASSWORD)
    old_cookie = driver.client.get_cookie("gatehouse_session").value
    page_before = driver.page
    (link,) = proof_links(mailbox, 1)
    assert open_link(driver, link).status_code == 303

    other = FlowDriver(app.test_client())
    assert open_link(other, link).status_code == 410
    replayed = FlowDriver(app.test_client())
    replayed.client.set_cookie("gatehouse_session", old_cookie)
    replayed.page = page_before
    replayed.submit(AUTH, {"password": PASSWORD})

    assert PROOF in replayed.text
    assert replayed.client.get("/me").status_code != 200


def test_a_link_opened_from_another_site_waits_for_a_click(app, victim, clock, mailbox):
    fail_a_long_run(app, clock, "victim")
    driver = guess(app, "victim", PASSWORD)
    (link,) = proof_links(mailbox, 1)

    response = driver.client.get(urlsplit(link).path, headers={"Sec-Fetch-Site": "cross-site"})

    assert response.status_code == 200 and 'name="csrf_token"' in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(select(FlowToken.used_at).where(FlowToken.purpose == "sign_in_proof"))
            is None
        )


def test_a_known_browser_is_not_held_back_by_the_run(app, victim, clock, mailbox):
    own = FlowDriver(app.test_client())
    own.sign_in("victim", PASSWORD)
    own.sign_out()
    fail_a_long_run(app, clock, "victim")

    own.sign_in("victim", PASSWORD)

    assert own.client.get("/me").status_code == 200
    wait_for_mail()
    assert mailbox.messages == []


def test_an_unknown_name_meets_the_rule_the_same_way_and_no_mail_leaves(
    app, victim, clock, mailbox
):
    pages = {}
    for name in ("victim", "nobody"):
        fail_a_long_run(app, clock, name)
        pages[name] = guess(app, name, PASSWORD).text.replace(name, "NAME")

    assert PROOF in pages["nobody"]
    assert pages["nobody"] == pages["victim"]
    mailbox.wait_for(1)
    wait_for_mail()
    assert len(mailbox.messages) == 1
    with app.app_context():
        # The same work: a token row for both, only the real one resumes a plan.
        rows = db.session.scalars(select(FlowToken).where(FlowToken.purpose == "sign_in_proof"))
        assert sorted((row.email, bool(row.plan)) for row in rows) == [
            ("name:nobody", False),
            ("name:victim", True),
        ]


def test_one_link_is_mailed_per_interval_however_often_it_is_asked_for(app, victim, clock, mailbox):
    fail_a_long_run(app, clock, "victim")
    for _ in range(5):
        assert PROOF in guess(app, "victim", PASSWORD).text
    clock.shift(app.config["LOGIN_PROOF_MAIL_INTERVAL"])
    assert PROOF in guess(app, "victim", PASSWORD).text

    assert len(proof_links(mailbox, 2)) == 2
    wait_for_mail()
    with app.app_context():
        links = db.session.scalar(select(func.count()).select_from(FlowToken))
        slot = db.session.scalar(
            select(FailedAttempts.failures).where(FailedAttempts.scope == "proof_mail")
        )
    assert links == 2 and slot == 2
    assert len(mailbox.messages) == 2


def test_proof_settings_are_validated(tmp_path):
    from idp.core.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="IDP_LOGIN_PROOF_AFTER must be between"):
        load_settings({"IDP_LOGIN_PROOF_AFTER": "0"}, str(tmp_path))
    assert load_settings({}, str(tmp_path))["LOGIN_PROOF_AFTER"] == 10
    assert timedelta(seconds=load_settings({}, str(tmp_path))["LOGIN_PROOF_MAIL_INTERVAL"])
