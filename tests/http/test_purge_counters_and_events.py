"""`idp maintenance purge` also clears what rate limits and the audit log leave behind. A failed
sign-in makes a row per name and per address tried, so an attack with many names left rows
that no purge ever deleted; the audit log, which names people and their addresses, grew for
ever. A counter goes once it would count from nothing again (nothing changes for the next
attempt), an event after IDP_EVENT_RETENTION_DAYS. The clock is moved, never slept."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from idp.core.config import ConfigError, load_settings
from idp.core.events import record_event
from idp.core.extensions import db
from idp.mailed_links.sign_in_links import MAIL_SCOPE
from idp.models import Event, FailedAttempts, MailSendCount, ReputationScore
from idp.models.types import utcnow
from idp.protection import mail_limits
from idp.stages.captcha import failures as captcha_failures
from tests.http.test_session_purge import purge
from tests.http.test_throttling import guess

SECOND = timedelta(seconds=1)


def count(app, model, *conditions) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def counters(app, scope) -> int:
    return count(app, FailedAttempts, FailedAttempts.scope == scope)


def counters_line(number: int, verb: str = "Deleted") -> str:
    return f"{verb} {number} counter(s) that no longer count"


def test_failed_sign_ins_are_forgotten_once_they_no_longer_count(app, runner, clock):
    guess(app, "nobody-by-that-name", "wrong")  # a name and an address: one row each
    forget_after = timedelta(seconds=app.config["LOGIN_FAILURES_FORGOTTEN_AFTER"])
    reputation_lasts = timedelta(days=1)
    assert counters(app, "account") == counters(app, "ip") == 1
    assert count(app, ReputationScore) == 2  # the name's and the address's

    clock.shift(min(forget_after, reputation_lasts))
    assert counters_line(0) in purge(runner)
    assert counters(app, "account") == 1 and count(app, ReputationScore) == 2

    clock.shift(SECOND)
    assert counters_line(4) in purge(runner)
    assert count(app, FailedAttempts) == count(app, ReputationScore) == 0


def test_a_counter_whose_wait_outlasts_the_forgetting_window_stays_until_the_wait_ends(
    app, runner, clock
):
    app.config.update(
        LOGIN_FAILURES_FORGOTTEN_AFTER=60,
        LOGIN_FREE_ATTEMPTS=1,
        LOGIN_DELAY_BASE=600,
        LOGIN_DELAY_MAX=600,
    )
    guess(app, "carol", "wrong")  # one free attempt used: the name now waits ten minutes
    with app.app_context():
        blocked_until = db.session.scalar(
            select(FailedAttempts.blocked_until).where(FailedAttempts.scope == "account")
        )
    assert blocked_until is not None

    clock.shift(timedelta(seconds=61))
    purge(runner)
    assert counters(app, "account") == 1, "the wait still holds: the row must stay"
    clock.shift(timedelta(seconds=600 - 61))
    purge(runner)
    assert counters(app, "account") == 0


def test_mail_counts_go_once_their_hour_is_over(app, runner, clock):
    with app.app_context():
        assert mail_limits.take_send([mail_limits.Limit("recipient", "a@example.org", 3)])
        db.session.commit()

    clock.shift(mail_limits.WINDOW - SECOND)
    purge(runner)
    assert count(app, MailSendCount) == 1
    clock.shift(SECOND)
    assert counters_line(1) in purge(runner)
    assert count(app, MailSendCount) == 0


def test_wrong_captcha_answers_of_plans_long_gone_are_deleted(app, runner, clock):
    with app.app_context():
        captcha_failures.count("a-plan-id")
        db.session.commit()

    clock.shift(captcha_failures.KEPT_FOR)
    purge(runner)
    assert counters(app, captcha_failures.SCOPE) == 1
    clock.shift(SECOND)
    purge(runner)
    assert counters(app, captcha_failures.SCOPE) == 0


def test_sign_in_link_slots_go_once_their_interval_is_over(app, runner, clock):
    with app.app_context():
        db.session.add(FailedAttempts(scope=MAIL_SCOPE, key="name:alice", last_failure_at=utcnow()))
        db.session.commit()
    interval = timedelta(seconds=app.config["LOGIN_PROOF_MAIL_INTERVAL"])

    clock.shift(interval - SECOND)
    purge(runner)
    assert counters(app, MAIL_SCOPE) == 1
    clock.shift(SECOND)
    purge(runner)
    assert counters(app, MAIL_SCOPE) == 0


def record_sign_in_event(app, action="login_failed"):
    with app.app_context():
        record_event(action, username="alice", ip="198.51.100.7")
        db.session.commit()


def test_events_are_deleted_after_the_retention_period(app, runner, clock):
    record_sign_in_event(app)
    retention = timedelta(days=app.config["EVENT_RETENTION_DAYS"])
    assert retention == timedelta(days=365)

    clock.shift(retention)
    record_sign_in_event(app, "login")  # a newer one, kept
    assert "Deleted 0 event(s) older than 365 days." in purge(runner)
    clock.shift(SECOND)

    assert "Would delete 1 event(s) older than 365 days." in purge(runner, "--dry-run")
    assert count(app, Event) == 2
    assert "Deleted 1 event(s) older than 365 days." in purge(runner)
    assert [action for (action,) in _events(app)] == ["login"]


def _events(app):
    with app.app_context():
        return db.session.execute(select(Event.action)).all()


def test_a_retention_of_zero_keeps_every_event(app, runner, clock):
    app.config["EVENT_RETENTION_DAYS"] = 0
    record_sign_in_event(app)
    clock.shift(timedelta(days=3650))

    assert "Kept every event (IDP_EVENT_RETENTION_DAYS is 0)." in purge(runner)
    assert count(app, Event) == 1


@pytest.mark.parametrize("value", ["-1", "a year", "36501", "1.5"])
def test_a_retention_gatehouse_cannot_use_stops_it_with_the_setting_named(tmp_path, value):
    with pytest.raises(ConfigError, match="IDP_EVENT_RETENTION_DAYS"):
        load_settings({"IDP_EVENT_RETENTION_DAYS": value}, str(tmp_path))
