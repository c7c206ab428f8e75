"""No user enumeration: an unknown name and a wrong password look the same and take the same
time, and recovery answers the same whether the account exists (mail goes only to it)."""

import ipaddress
import re
import statistics
import threading
import time

import pytest

import idp.core.mail
from idp.core.mail import wait_for_mail
from tests import factories
from tests.conftest import CSRF_PATTERN
from tests.security.visitor import AUTH

RECOVERY = "default-recovery-flow"
TRIES = 80
# The median difference between a wrong password and an unknown name timed in the same round
# must be under this; a missing dummy hash shows as a whole bcrypt check (about 15 ms at cost
# 8) in every round.
MAX_MEDIAN_DIFFERENCE = 0.010


def same_time(first: list[float], second: list[float]) -> tuple[bool, dict]:
    """Whether two kinds of request, timed in turns, take the same time: the median of their
    differences round by round (a busy moment of the machine slows both of a round alike, so
    it cancels out, where comparing the two medians let it through)."""
    paired = statistics.median(a - b for a, b in zip(first, second, strict=True))
    figures = {"paired": paired, "medians": [statistics.median(first), statistics.median(second)]}
    return abs(paired) < MAX_MEDIAN_DIFFERENCE, figures


@pytest.fixture
def app_settings(app_settings):
    # Hundreds of failures from one address: throttling would answer them all at once.
    return {
        **app_settings,
        "LOGIN_FREE_ATTEMPTS": 1000,
        "LOGIN_PROOF_AFTER": 100000,
        "LOGIN_FREE_ATTEMPTS_PER_IP": 100000,
    }


def comparable(html: str, name: str) -> str:
    """The page with the parts that differ by right (the CSRF token, the typed name) masked."""
    return CSRF_PATTERN.sub("csrf", html).replace(name, "NAME")


def cookie_keys(visitor) -> list[str]:
    return sorted(set(re.findall(r'"([a-z_]+)":', visitor.cookie_text)))


def at_password_stage(new_visitor, name):
    visitor = new_visitor()
    visitor.open(AUTH)
    visitor.submit(AUTH, {"uid_field": name})
    assert visitor.stage == "password"
    return visitor


def timed_post(visitor, fields) -> float:
    started = time.perf_counter()
    response = visitor.submit(AUTH, fields)
    elapsed = time.perf_counter() - started
    assert response.status_code == 400
    return elapsed


def test_unknown_name_and_wrong_password_get_the_same_page(new_visitor, alice):
    # "alice" and "nobod" have the same length, so a length-based difference would show too.
    known, unknown = (
        at_password_stage(new_visitor, "alice"),
        at_password_stage(new_visitor, "nobod"),
    )
    assert comparable(known.page, "alice") == comparable(unknown.page, "nobod")
    assert cookie_keys(known) == cookie_keys(unknown)
    known_response = known.submit(AUTH, {"password": "wrong password"})
    unknown_response = unknown.submit(AUTH, {"password": "wrong password"})
    assert known_response.status_code == unknown_response.status_code == 400
    assert known_response.headers.keys() == unknown_response.headers.keys()
    assert comparable(known.page, "alice") == comparable(unknown.page, "nobod")
    assert "Invalid username or password." in known.text


def test_unknown_name_and_wrong_password_take_the_same_time(new_visitor, alice):
    known, unknown = (
        at_password_stage(new_visitor, "alice"),
        at_password_stage(new_visitor, "nobod"),
    )
    timings = {known: [], unknown: []}
    for round_number in range(TRIES):
        # Interleaved, so a slower moment of the machine weighs on both kinds alike, and in
        # turns, because whichever goes first in a pair is measurably slower.
        pair = (known, unknown) if round_number % 2 else (unknown, known)
        for visitor in pair:
            timings[visitor].append(timed_post(visitor, {"password": "wrong password"}))
    alike, figures = same_time(*timings.values())
    assert alike, figures


def at_first_page(new_visitor):
    visitor = new_visitor()
    visitor.open(AUTH)
    assert visitor.stage == "identification" and 'name="password"' in visitor.page
    return visitor


def test_on_the_one_page_sign_in_an_unknown_name_and_a_wrong_password_look_the_same(
    new_visitor, alice
):
    known, unknown = at_first_page(new_visitor), at_first_page(new_visitor)
    known_response = known.submit(AUTH, {"uid_field": "alice", "password": "wrong password"})
    unknown_response = unknown.submit(AUTH, {"uid_field": "nobod", "password": "wrong password"})
    assert known_response.status_code == unknown_response.status_code == 400
    assert known_response.headers.keys() == unknown_response.headers.keys()
    assert comparable(known.page, "alice") == comparable(unknown.page, "nobod")
    assert cookie_keys(known) == cookie_keys(unknown)
    assert "Invalid username or password." in known.text


def test_on_the_one_page_sign_in_an_unknown_name_and_a_wrong_password_take_the_same_time(
    new_visitor, alice
):
    visitors = {"alice": at_first_page(new_visitor), "nobod": at_first_page(new_visitor)}
    timings = {name: [] for name in visitors}
    for round_number in range(TRIES):
        pair = ("alice", "nobod") if round_number % 2 else ("nobod", "alice")
        for name in pair:
            fields = {"uid_field": name, "password": "wrong password"}
            timings[name].append(timed_post(visitors[name], fields))
    alike, figures = same_time(*timings.values())
    assert alike, figures


def test_recovery_answers_the_same_for_an_unknown_name_and_mails_only_the_account(
    new_visitor, mailbox, alice
):
    answers = {}
    for name in ("alice", "nobod"):
        visitor = new_visitor()
        visitor.open(RECOVERY)
        response = visitor.submit(RECOVERY, {"uid_field": name})
        answers[name] = (
            response.status_code,
            response.headers.get("Location"),
            comparable(visitor.page, name),
            cookie_keys(visitor),
        )
    assert answers["alice"] == answers["nobod"]
    assert "If an account exists for" in answers["nobod"][2]
    wait_for_mail()
    assert [message["To"] for message in mailbox.messages] == ["alice@example.test"]


@pytest.fixture
def delivery_held(monkeypatch):
    """Mail handed over to its thread waits until the test opens the gate. The app delivers
    only after the response is sent (idp.core.mail), so a remote client never times delivery; but
    here the client, the server and the SMTP server share one process and its GIL, and the
    delivery of a real try (building the message, smtplib, aiosmtpd parsing it) slowed the
    client's own reading of the answer: median 20 ms against 10-13 ms for an unknown name,
    and 6.6 against 7.3 ms with delivery left out (100 tries each, run alone)."""
    gate = threading.Event()
    deliver = idp.core.mail._deliver

    def held(*args):
        gate.wait(120)
        deliver(*args)

    monkeypatch.setattr(idp.core.mail, "_deliver", held)
    yield gate
    gate.set()


def test_recovery_takes_the_same_time_for_an_unknown_name(app, new_visitor, mailbox, delivery_held):
    # Every try names a different account (or non-account) from a different client address,
    # so no hourly limit is reached: each real try makes a link, its plan and its mail and
    # hands the mail over, which is what is being timed; the delivery, done after the answer
    # is sent, waits for the end (delivery_held). Names of one length, so a length-based
    # difference would show too.
    app.config["TRUSTED_PROXIES"] = (ipaddress.ip_network("127.0.0.1/32"),)
    with app.app_context():
        for index in range(TRIES):
            factories.make_user(f"real{index:03}", password=None)
    timings = {"real": [], "none": []}
    for round_number in range(TRIES):
        kinds = ("real", "none") if round_number % 2 else ("none", "real")
        for kind in kinds:
            client = f"198.18.{kinds.index(kind)}.{round_number % 250}"
            visitor = new_visitor(headers={"X-Forwarded-For": client})
            visitor.open(RECOVERY)
            started = time.perf_counter()
            visitor.submit(RECOVERY, {"uid_field": f"{kind}{round_number:03}"})
            timings[kind].append(time.perf_counter() - started)
            assert "If an account exists for" in visitor.text
            visitor.close()
    alike, figures = same_time(timings["real"], timings["none"])
    print("recovery over", TRIES, "tries each:", figures)
    assert alike, figures
    # What was timed is the sending path: every real account got its link, nobody else.
    delivery_held.set()
    wait_for_mail()
    assert len(mailbox.messages) == TRIES
    assert {message["To"] for message in mailbox.messages} == {
        f"real{index:03}@example.test" for index in range(TRIES)
    }
