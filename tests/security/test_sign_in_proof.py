"""Throttling that an attacker can neither outwait nor turn against the user, over HTTP with
a real SMTP server and a clock moved by time-machine.

Past IDP_LOGIN_PROOF_AFTER failures on a name, a browser the user never signed in on needs
the sign-in link mailed to the account before any password is weighed.
"""

import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.mail import wait_for_mail
from idp.models import Event
from tests.factories import PASSWORD
from tests.security.visitor import AUTH
from tests.smtp_server import text_of

INVALID = "Invalid username or password."
PROOF = "we mailed it a sign-in link"
PROOF_LINK = re.compile(r"https?://[^\s\"<>]+/flow/sign-in-link/[A-Za-z0-9_-]+")


ATTACKERS = 30


@pytest.fixture
def app_settings(app_settings):
    # Each of the simultaneous guesses holds a connection: a pool for all of them, so that
    # a slow moment of the machine queues none past the pool's timeout.
    return {**app_settings, "ENVIRON": {"IDP_DATABASE_POOL_SIZE": str(ATTACKERS)}}


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(datetime.now(UTC), tick=False)
    return time_machine


def weighed_events(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(Event).where(Event.action == "login_failed")
        )


def test_an_attacker_who_waits_out_every_delay_gets_no_more_guesses_than_the_run_in_a_day(
    app, alice, new_visitor, clock, mailbox
):
    weighed = 0
    wait = 4 * app.config["LOGIN_DELAY_MAX"]  # well past the longest delay (20 minutes)
    for _ in range(24 * 3600 // wait):  # one guess after each wait, for a whole day
        attacker = new_visitor()
        attacker.sign_in("alice", "guess")
        weighed += INVALID in attacker.text
        clock.shift(wait)

    assert weighed == app.config["LOGIN_PROOF_AFTER"] == weighed_events(app)


def test_the_user_on_a_new_browser_gets_in_with_the_mailed_link_during_the_attack(
    app, alice, new_visitor, clock, mailbox
):
    for _ in range(app.config["LOGIN_PROOF_AFTER"]):
        new_visitor().sign_in("alice", "guess")
        clock.shift(app.config["LOGIN_DELAY_MAX"] + 1)
    user = new_visitor()

    user.sign_in("alice", PASSWORD)
    assert PROOF in user.text and not user.is_signed_in
    link = PROOF_LINK.search(text_of(mailbox.wait_for(1)[-1])).group(0)
    opened = user.get(urlsplit(link).path, headers={"Sec-Fetch-Site": "none"})
    assert opened.status_code == 303
    user.open(AUTH)
    user.submit(AUTH, {"password": PASSWORD})

    assert user.is_signed_in
    # The attacker's browsers got nothing out of the user's link.
    late_attacker = new_visitor()
    late_attacker.sign_in("alice", PASSWORD)
    assert PROOF in late_attacker.text and not late_attacker.is_signed_in


def test_thirty_browsers_at_once_past_the_run_get_no_guess_and_mail_one_link(
    app, alice, new_visitor, clock, mailbox
):
    for _ in range(app.config["LOGIN_PROOF_AFTER"]):
        new_visitor().sign_in("alice", "guess")
        clock.shift(app.config["LOGIN_DELAY_MAX"] + 1)
    before = weighed_events(app)
    attackers = [new_visitor() for _ in range(ATTACKERS)]
    for attacker in attackers:
        attacker.open(AUTH)
        attacker.submit(AUTH, {"uid_field": "alice"})
    barrier = threading.Barrier(len(attackers), timeout=60)

    def guess(attacker):
        barrier.wait()
        response = attacker.submit(AUTH, {"password": PASSWORD})
        return "proof" if response.status_code == 400 and PROOF in attacker.text else "other"

    with ThreadPoolExecutor(max_workers=len(attackers)) as pool:
        outcomes = Counter(pool.map(guess, attackers))

    assert outcomes == {"proof": ATTACKERS}
    assert weighed_events(app) == before
    mailbox.wait_for(1)
    wait_for_mail()
    assert len(mailbox.messages) == 1
