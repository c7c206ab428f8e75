from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event, FailedAttempts
from idp.models.types import utcnow
from idp.protection import attempts
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, account_of, make_user

AUTH = "default-authentication-flow"


@pytest.fixture(autouse=True)
def _frozen_clock(time_machine):
    """A wait of 2 s must not run out while a loaded machine runs the test."""
    time_machine.move_to(datetime.now(UTC), tick=False)


def guess(app, username, password, ip="198.51.100.7"):
    driver = FlowDriver(app.test_client())
    driver.client.environ_base["REMOTE_ADDR"] = ip
    driver.sign_in(username, password)
    return driver


def unblock(app, scope, key):
    """Let the clock run past the current wait without sleeping in the test."""
    with app.app_context():
        key = account_of(key) if scope == "account" else key
        row = db.session.scalar(
            select(FailedAttempts).where(FailedAttempts.scope == scope, FailedAttempts.key == key)
        )
        row.blocked_until = utcnow()
        db.session.commit()


@pytest.fixture
def victim(app):
    with app.app_context():
        make_user("victim")


def test_attempts_past_the_threshold_are_answered_at_once_even_with_the_right_password(app, victim):
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    for _ in range(free):
        assert "Invalid username or password." in guess(app, "victim", "wrong").text
    driver = guess(app, "victim", PASSWORD)
    assert "Too many failed attempts. Try again in 2 s." in driver.text
    assert driver.client.get("/me").status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Event.detail).where(Event.action == "login_throttled")) == {
            "wait": 2
        }


def test_the_wait_doubles_with_each_further_failure_up_to_the_cap(app, victim):
    # Far from the run that calls for a mailed link (test_sign_in_proof.py).
    app.config.update(LOGIN_PROOF_AFTER=1000)
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    for _ in range(free):
        guess(app, "victim", "wrong")
    waits = []
    for _ in range(10):
        unblock(app, "account", "victim")
        guess(app, "victim", "wrong")
        driver = guess(app, "victim", "wrong")
        waits.append(int(driver.text.split("Try again in ")[1].split(" s")[0]))
    assert waits[:4] == [4, 8, 16, 32]
    assert max(waits) == app.config["LOGIN_DELAY_MAX"]


def test_the_right_password_after_the_wait_signs_in_and_clears_the_account(app, victim):
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        guess(app, "victim", "wrong")
    unblock(app, "account", "victim")
    driver = guess(app, "victim", PASSWORD)
    assert driver.client.get("/me").status_code == 200
    with app.app_context():
        assert attempts.failures_of("account", account_of("victim")) == 0


def test_unknown_accounts_are_throttled_exactly_like_known_ones(app, victim):
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    texts = {}
    for name in ("victim", "nobody"):
        for _ in range(free):
            guess(app, name, "wrong")
        texts[name] = guess(app, name, "wrong").text.replace(name, "NAME")
    assert texts["victim"] == texts["nobody"]


def test_other_accounts_are_not_slowed_by_one_account_under_attack(app, victim):
    with app.app_context():
        make_user("bystander")
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"] + 2):
        guess(app, "victim", "wrong")
    assert guess(app, "bystander", PASSWORD).client.get("/me").status_code == 200


def test_one_address_trying_many_accounts_is_slowed_per_ip(tmp_path):
    from tests.conftest import make_test_app
    from tests.factories import load_shipped_flows

    app = make_test_app(tmp_path, ENVIRON={"IDP_LOGIN_FREE_ATTEMPTS_PER_IP": "3"})
    with app.app_context():
        db.create_all()
        load_shipped_flows()
    for index in range(3):
        assert "Invalid username" in guess(app, f"spray{index}", "wrong", ip="203.0.113.5").text
    assert "Try again in" in guess(app, "spray9", "wrong", ip="203.0.113.5").text
    assert "Invalid username" in guess(app, "spray9", "wrong", ip="203.0.113.6").text


def test_old_failures_are_forgotten(app, victim):
    from datetime import timedelta

    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"] - 1):
        guess(app, "victim", "wrong")
    with app.app_context():
        row = db.session.scalar(
            select(FailedAttempts).where(FailedAttempts.key == account_of("victim"))
        )
        row.last_failure_at = utcnow() - timedelta(days=2)
        db.session.commit()
    guess(app, "victim", "wrong")
    with app.app_context():
        assert attempts.failures_of("account", account_of("victim")) == 1


def test_parallel_wrong_guesses_get_no_further_than_the_threshold_on_sqlite(app, victim):
    from concurrent.futures import ThreadPoolExecutor

    free = app.config["LOGIN_FREE_ATTEMPTS"]
    drivers = []
    for _ in range(20):
        driver = FlowDriver(app.test_client())
        driver.open(AUTH)
        driver.submit(AUTH, {"uid_field": "victim"})
        drivers.append(driver)
    with ThreadPoolExecutor(max_workers=20) as pool:
        list(pool.map(lambda driver: driver.submit(AUTH, {"password": "wrong"}), drivers))
    weighed = sum("Invalid username or password." in driver.text for driver in drivers)
    assert weighed == free
    with app.app_context():
        assert attempts.failures_of("account", account_of("victim")) == free


def test_throttle_settings_are_validated(tmp_path):
    from idp.core.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="IDP_LOGIN_FREE_ATTEMPTS must be between"):
        load_settings({"IDP_LOGIN_FREE_ATTEMPTS": "0"}, str(tmp_path))


def test_the_throttle_does_not_reveal_which_email_belongs_to_an_account(app, victim):
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    with app.app_context():
        make_user("ghost-owner", email="owner@example.test")
    answers = {}
    for name, email in (("victim", "victim@example.test"), ("ghost", "ghost@example.test")):
        for index in range(free):
            guess(app, name, "wrong", ip=f"198.51.100.{index + 10}")
        answers[name] = "Try again in" in guess(app, email, "wrong", ip="198.51.100.99").text
    assert answers == {"victim": False, "ghost": False}


def test_a_strangers_guesses_never_keep_the_user_out_of_their_own_browser(app, victim):
    own_browser = guess(app, "victim", PASSWORD, ip="192.0.2.10")
    assert own_browser.client.get("/me").status_code == 200
    own_browser.client.get("/logout", follow_redirects=True)
    for round_number in range(3):
        for _ in range(app.config["LOGIN_FREE_ATTEMPTS"] + 1):
            guess(app, "victim", "wrong", ip=f"203.0.113.{round_number}")
    assert "Try again in" in guess(app, "victim", PASSWORD, ip="203.0.113.50").text
    own_browser.client.get(f"/flow/{AUTH}/restart")
    own_browser.sign_in("victim", PASSWORD)
    assert own_browser.client.get("/me").status_code == 200


def test_a_device_remembered_for_one_user_does_not_help_another(app, victim):
    with app.app_context():
        make_user("other")
    browser = guess(app, "victim", PASSWORD, ip="192.0.2.10")
    browser.client.get("/logout", follow_redirects=True)
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        guess(app, "other", "wrong", ip="203.0.113.1")
    browser.client.get(f"/flow/{AUTH}/restart")
    browser.sign_in("other", PASSWORD)
    assert "Try again in" in browser.text


def test_a_forged_device_cookie_is_ignored(app, victim):
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        guess(app, "victim", "wrong", ip="203.0.113.1")
    forger = FlowDriver(app.test_client())
    forger.client.set_cookie("gatehouse_device", "W3sidSI6IDEsICJuIjogIngifV0.forged")
    forger.sign_in("victim", PASSWORD)
    assert "Try again in" in forger.text


def test_an_attempt_refused_for_its_ip_does_not_count_against_the_account(tmp_path):
    from tests.conftest import make_test_app
    from tests.factories import load_shipped_flows

    app = make_test_app(tmp_path, ENVIRON={"IDP_LOGIN_FREE_ATTEMPTS_PER_IP": "2"})
    with app.app_context():
        db.create_all()
        load_shipped_flows()
        make_user("target")
    for name in ("spray1", "spray2"):
        guess(app, name, "wrong", ip="203.0.113.9")
    assert "Try again in" in guess(app, "target", "wrong", ip="203.0.113.9").text
    with app.app_context():
        assert attempts.failures_of("account", account_of("target")) == 0
