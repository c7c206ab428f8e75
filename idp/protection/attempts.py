"""Brute-force protection: failed sign-ins counted per account and per client IP.

An attempt takes a slot before the password hash runs. Past a threshold each further failure
makes the key wait longer (doubling, up to a cap), and an attempt made while it must wait is
answered at once, right password or not, without being weighed.

The account is the name as typed, so the throttle tells nothing about which names exist. A
browser where the user signed in before (idp.identity.devices) is counted on its own, so a
stranger's guesses, however many and however long, never slow the real user down on their own
device.

After a long run of failures on a name (IDP_LOGIN_PROOF_AFTER within the forgetting window),
waiting is no longer enough on a browser the user never signed in on: a password is weighed
only in a plan that proved control of the account's mailbox with a mailed sign-in link
(idp.mailed_links.sign_in_links), and is then counted against that plan alone. A stranger without
the mailbox gets no more guesses until the run is forgotten; the real user gets in with the
link. The rule looks at the name as typed, so an unknown name meets it the same way.
"""

import functools
import math
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, case, delete, select, update

from idp.core import metrics
from idp.core.database import upsert_for_dialect
from idp.core.extensions import db, is_sqlite_writing
from idp.models import FailedAttempts
from idp.models.types import utcnow

ACCOUNT = "account"
CLIENT_IP = "ip"
# Authenticator codes are counted apart from passwords: a mistyped code does not bring the
# password's wait nearer, and failed passwords do not slow the code of someone who has proved it.
CODE = "code"


@dataclass(frozen=True)
class Throttle:
    """The settings, read from IDP_LOGIN_* (see config.py)."""

    free_attempts: int
    free_attempts_per_ip: int
    base_delay: int
    max_delay: int
    forget_after: int
    proof_after: int

    @classmethod
    def from_config(cls) -> "Throttle":
        config = current_app.config
        return cls(
            config["LOGIN_FREE_ATTEMPTS"],
            config["LOGIN_FREE_ATTEMPTS_PER_IP"],
            config["LOGIN_DELAY_BASE"],
            config["LOGIN_DELAY_MAX"],
            config["LOGIN_FAILURES_FORGOTTEN_AFTER"],
            config["LOGIN_PROOF_AFTER"],
        )

    def delay(self, failures: int, free: int) -> int:
        """Seconds the key must wait after its `failures`-th failure."""
        if failures < free:
            return 0
        return min(self.max_delay, self.base_delay * 2 ** min(failures - free, 30))


def account_key(identifier: str, trusted_device: str | None = None) -> str:
    """What an attempt is counted against: the name as typed (the same whether or not such
    an account exists), or a device the user signed in on before."""
    if trusted_device:
        return f"device:{trusted_device}"
    return f"name:{identifier.strip().lower()}"


def proved_key(plan_id: str) -> str:
    """What attempts are counted against once a plan proved control of the mailbox."""
    return f"proved:{plan_id}"


# take_attempt's answer when the account's run of failures calls for proof (see above).
NEEDS_PROOF = -1


def take_attempt(account: str, ip: str, needs_proof_past_run: bool = False) -> int:
    """Count an attempt for the account and the IP before it is weighed.

    Returns 0 when the attempt may go ahead, else the seconds to wait, or NEEDS_PROOF when
    `needs_proof_past_run` and the account's failures reached IDP_LOGIN_PROOF_AFTER. An
    attempt that is not weighed leaves both counts as they were.
    """
    throttle = Throttle.from_config()
    proof_after = throttle.proof_after if needs_proof_past_run else None
    # Rows are always locked account first, then IP, here and below: no deadlock.
    with _counter_transaction() as connection:
        wait = _take(
            connection, throttle, ACCOUNT, account[:255], throttle.free_attempts, proof_after
        )
        if wait == NEEDS_PROOF:
            metrics.THROTTLED.labels("proof").inc()
            return wait
        if wait:
            metrics.THROTTLED.labels("password").inc()
            return wait
        wait = _take(connection, throttle, CLIENT_IP, ip[:255], throttle.free_attempts_per_ip)
        if wait:
            _give_back(connection, ACCOUNT, account[:255], throttle.free_attempts)
            metrics.THROTTLED.labels("password").inc()
        return wait


def attempt_succeeded(account: str, ip: str) -> None:
    """The password was right: forget the account's failures and take back the IP's count.

    In the request's own transaction (see _in_request_transaction)."""
    throttle = Throttle.from_config()
    connection = _in_request_transaction()
    _forget(connection, ACCOUNT, account[:255])
    _give_back(connection, CLIENT_IP, ip[:255], throttle.free_attempts_per_ip)


def take_ip_attempt(ip: str) -> int:
    """Count an attempt for the IP alone before it is weighed, as take_attempt does: for an
    answer that names no account until it is checked (a passwordless passkey). It shares the
    IP's count with passwords, so one address gets no more tries by switching between them.
    Returns 0, or the seconds to wait (nothing counted)."""
    throttle = Throttle.from_config()
    with _counter_transaction() as connection:
        wait = _take(connection, throttle, CLIENT_IP, ip[:255], throttle.free_attempts_per_ip)
    if wait:
        metrics.THROTTLED.labels("passkey").inc()
    return wait


def ip_attempt_succeeded(ip: str) -> None:
    """The answer was accepted: take back the IP's count, as attempt_succeeded does."""
    throttle = Throttle.from_config()
    _give_back(_in_request_transaction(), CLIENT_IP, ip[:255], throttle.free_attempts_per_ip)


def purge() -> int:
    """Delete the counts that no longer count: no failure within the forgetting window and no
    wait left, which the next attempt would start again from nothing. The caller commits."""
    throttle = Throttle.from_config()
    now = utcnow()
    table = _TABLE
    return db.session.execute(
        delete(table).where(
            table.c.scope.in_((ACCOUNT, CLIENT_IP, CODE)),
            table.c.last_failure_at < now - timedelta(seconds=throttle.forget_after),
            table.c.blocked_until.is_(None) | (table.c.blocked_until <= now),
        )
    ).rowcount


def _give_back(connection, scope: str, key: str, free: int) -> None:
    """Undo one count taken by _take in this transaction (its row is still locked by us)."""
    connection.execute(_GIVE_BACK, {"counter_scope": scope, "counter_key": key, "free": free})


def _forget(connection, scope: str, key: str) -> None:
    connection.execute(_FORGET, {"counter_scope": scope, "counter_key": key})


def failures_of(scope: str, key: str) -> int:
    row = db.session.scalar(
        select(FailedAttempts.failures).where(
            FailedAttempts.scope == scope, FailedAttempts.key == key[:255]
        )
    )
    return row or 0


def _take(connection, throttle, scope, key, free, proof_after=None) -> int:
    """Count one attempt for the key unless it must wait or needs proof; 0, the seconds to
    wait, or NEEDS_PROOF."""
    now = utcnow()
    # Nothing counted: the key must wait or needs proof, unless its row changed in between
    # (a success elsewhere deleted it, or its wait ended): look, and try again.
    for _ in range(3):
        counted = _count_unless_held(connection, throttle, scope, key, now, proof_after)
        if counted is not None:
            break
        row = connection.execute(
            select(
                FailedAttempts.blocked_until,
                FailedAttempts.failures,
                FailedAttempts.last_failure_at,
            ).where(FailedAttempts.scope == scope, FailedAttempts.key == key)
        ).first()
        if row is None:
            continue
        remembered = _aware(row.last_failure_at) >= now - timedelta(seconds=throttle.forget_after)
        if proof_after is not None and remembered and row.failures >= proof_after:
            return NEEDS_PROOF
        blocked_until = _aware(row.blocked_until)
        if blocked_until is not None and blocked_until > now:
            return max(1, math.ceil((blocked_until - now).total_seconds()))
    else:
        return 1  # could not count it: waiting is the safe answer
    delay = throttle.delay(counted, free)
    if delay:
        connection.execute(
            update(FailedAttempts)
            .where(FailedAttempts.scope == scope, FailedAttempts.key == key)
            .values(blocked_until=now + timedelta(seconds=delay))
        )
    return 0


def _count_unless_held(connection, throttle, scope, key, now, proof_after) -> int | None:
    """Add one failure in one statement unless the key must wait or needs proof; the new
    count, or None.

    A new key starts at one; an existing one counts up unless it must wait (or, with
    `proof_after`, its remembered failures reached it), in which case the upsert changes and
    returns nothing."""
    parameters = {
        "counter_scope": scope,
        "counter_key": key,
        "now": now,
        "forgotten": now - timedelta(seconds=throttle.forget_after),
    }
    if proof_after is not None:
        parameters["proof_after"] = proof_after
    statement = _count_statement(connection.dialect.name, proof_after is not None)
    return connection.execute(statement, parameters).scalar()


# The counters' statements are built once, with bound parameters: building one took longer
# than the database took to run it, on every sign-in.
_TABLE = FailedAttempts.__table__
_NOW = bindparam("now", type_=_TABLE.c.last_failure_at.type)
_FORGOTTEN = bindparam("forgotten", type_=_TABLE.c.last_failure_at.type)
_SCOPE_AND_KEY = (
    _TABLE.c.scope == bindparam("counter_scope"),
    _TABLE.c.key == bindparam("counter_key"),
)


@functools.cache
def _count_statement(dialect_name: str, with_proof: bool):
    table = _TABLE
    may_count = table.c.blocked_until.is_(None) | (table.c.blocked_until <= _NOW)
    if with_proof:
        may_count = may_count & (
            (table.c.failures < bindparam("proof_after")) | (table.c.last_failure_at < _FORGOTTEN)
        )
    return (
        upsert_for_dialect(dialect_name)(table)
        .values(
            scope=bindparam("counter_scope"),
            key=bindparam("counter_key"),
            failures=1,
            last_failure_at=_NOW,
        )
        .on_conflict_do_update(
            index_elements=["scope", "key"],
            set_={
                "failures": case(
                    (table.c.last_failure_at < _FORGOTTEN, 1), else_=table.c.failures + 1
                ),
                "last_failure_at": _NOW,
            },
            where=may_count,
        )
        .returning(table.c.failures)
    )


# One statement: the right-hand sides read the row as it was before this update.
_GIVE_BACK = (
    update(_TABLE)
    .where(*_SCOPE_AND_KEY)
    .values(
        failures=_TABLE.c.failures - 1,
        blocked_until=case(
            (_TABLE.c.failures - 1 < bindparam("free"), None), else_=_TABLE.c.blocked_until
        ),
    )
)
_FORGET = delete(_TABLE).where(*_SCOPE_AND_KEY)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite: naive UTC from a Core select
        return moment.replace(tzinfo=UTC)
    return moment


def _in_request_transaction():
    """Where a success is written down: the request's transaction, which commits with the
    sign-in it belongs to. Only a count taken must commit at once (_counter_transaction); one
    given back needs no transaction of its own, which would cost a sign-in on PostgreSQL a
    connection from the pool and two round trips. Should the request fail from here on, the
    counts stay as they were: the safe side.

    No deadlock: the request takes these rows after its own counts committed, account first,
    then IP, as every counter transaction does, and nothing else in the request locks them."""
    return db.session.connection()


@contextmanager
def _counter_transaction():
    """The counters commit on their own, at once, so no lock is held while the password hash
    runs and a later failure of the request cannot take a count back.

    PostgreSQL: a connection of its own. SQLite lets one writer in at a time, so a second
    connection would wait for this request's own lock: the request's connection is used, and
    its transaction (begun by the counters' first write, see idp.core.extensions) is committed
    under the session. A request that wrote before keeps the counters in its own transaction,
    which holds the lock until it ends."""
    if db.session.get_bind().dialect.name != "sqlite":
        with db.engine.begin() as connection:
            yield connection
        return
    connection = db.session.connection()
    if is_sqlite_writing(connection):
        yield connection
        return
    yield connection
    connection.connection.dbapi_connection.commit()


def code_key(user_id: int) -> str:
    return f"user:{user_id}"


def take_code_attempt(user_id: int) -> int:
    """Count an authenticator code for the user before it is checked, as take_attempt does.

    Per user only: a code is asked after the password, whose per-IP count already limits how
    fast one client gets this far. Returns 0, or the seconds to wait (nothing counted)."""
    throttle = Throttle.from_config()
    with _counter_transaction() as connection:
        wait = _take(connection, throttle, CODE, code_key(user_id), throttle.free_attempts)
    if wait:
        metrics.THROTTLED.labels("code").inc()
    return wait


def code_attempt_succeeded(user_id: int) -> None:
    _forget(_in_request_transaction(), CODE, code_key(user_id))
