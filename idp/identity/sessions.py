"""Server-side sessions: the cookie holds a random key, the database says whether it is valid."""

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g, session
from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    bindparam,
    case,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from idp.core.database import upsert_for_dialect
from idp.core.extensions import begin_sqlite_write, db
from idp.core.network import client_ip, user_agent
from idp.flows import once
from idp.flows.revision import remember_for_request, revision_column
from idp.identity.deletion import delete_rows
from idp.models import User, UserSession
from idp.models.types import utcnow

SESSION_KEY = "sid"
# Cookie entries that survive signing in; everything else (the CSRF secret too) is renewed.
KEPT_AT_SIGN_IN = ("plans",)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
# Where the factory's parts register what must happen when sessions end (back-channel logout
# tells the applications they signed in to): functions taking the ended sessions' ids, called
# in the transaction that ends them.
SESSION_END_LISTENERS = "idp.session_end_listeners"
# How long `idp maintenance purge` keeps a session after it ended. Its plan_id is what refuses
# a replayed plan cookie a second sign-in (_insert_unless_plan_used), so the row must outlive
# every plan that could still be replayed: a plan lives a day at most and a mailed link resumes
# one up to a week, the same reckoning as the plan claims kept in idp.flows.once.
ENDED_KEPT_FOR = once.KEPT_FOR


class PlanAlreadyUsed(Exception):
    """This plan has signed a session in before: the cookie was replayed."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def idle_timeout() -> timedelta | None:
    """How long a session may go unused before it ends (None: no idle limit)."""
    seconds = current_app.config["SESSION_IDLE_TIMEOUT"]
    return timedelta(seconds=seconds) if seconds else None


def is_alive(row: UserSession, now: datetime) -> bool:
    """Not revoked, within its lifetime, and used recently enough."""
    return row.revoked_at is None and now < row.ends_at(idle_timeout())


def alive_at(now: datetime) -> list[ColumnElement[bool]]:
    """The same test as is_alive, as WHERE clauses."""
    timeout = idle_timeout()
    return alive_clauses(now, now - timeout if timeout is not None else None)


def alive_clauses(now, idle_since) -> list[ColumnElement[bool]]:
    """alive_at's clauses, `now` and `idle_since` (None: no idle timeout) given as values or
    as bound parameters of a statement built once."""
    clauses = [UserSession.revoked_at.is_(None), UserSession.expires_at > now]
    if idle_since is not None:
        clauses.append(UserSession.last_seen_at > idle_since)
    return clauses


def ended_long_ago(keep: ColumnElement[bool] | None = None) -> list[int]:
    """The sessions that ended more than ENDED_KEPT_FOR ago (revoked, past their lifetime, or
    idle past IDP_SESSION_IDLE_TIMEOUT) and were made before then too, but not those `keep`
    (a condition on UserSession) holds: their ids, for delete_sessions.

    "Made before then" follows from having ended before then, unless the idle timeout was
    lowered since: a session then counts as ended earlier than it did, but its plan is still
    no older than the row."""
    cutoff = utcnow() - ENDED_KEPT_FOR
    ended = [UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff]
    timeout = idle_timeout()
    if timeout is not None:
        ended.append(UserSession.last_seen_at < cutoff - timeout)
    condition = and_(or_(*ended), UserSession.created_at < cutoff)
    if keep is not None:
        condition = and_(condition, ~keep)
    return list(db.session.scalars(select(UserSession.id).where(condition)))


def delete_sessions(ids: list[int]) -> int:
    """Delete these sessions with every row that points at them; how many. The caller
    commits."""
    return delete_rows(UserSession.__table__, ids)


def load_current_session() -> UserSession | None:
    """The valid session row behind this request's cookie, cached for the request.

    Called before the view (see security.py), because it may commit."""
    if "user_session" in g:
        return g.user_session
    g.user_session = None
    key = session.get(SESSION_KEY)
    if not isinstance(key, str):
        return None
    row = session_for_key(key)
    if row is None:
        session.pop(SESSION_KEY, None)
        return None
    g.user_session = row
    # Flask-Login's per-request user, taken now while row.user is loaded: a rollback later in
    # the request (an error page) expires the row, and row.user is lazy="raise".
    g._login_user = row.user
    return row


def session_for_key(key: str) -> UserSession | None:
    """The live session with this cookie key, its user loaded, its use recorded. Forward
    auth calls it with the key from the cookie the browser sent to the protected app."""
    found = db.session.execute(_by_key_statement(), {"key_hash": _hash(key)}).first()
    row, current_revision = found if found is not None else (None, None)
    if current_revision is not None:
        # What is cached under the revision (site settings, the brand) needs no query of its own.
        remember_for_request(current_revision)
    now = utcnow()
    if row is None or not is_alive(row, now) or not row.user.is_active:
        return None
    if now - row.last_seen_at > LAST_SEEN_RESOLUTION:
        _record_use(row, now)
    return row


@functools.cache
def _by_key_statement():
    """Built once: every signed-in request (and forward auth) asks, and building it cost more
    than running it."""
    return (
        select(UserSession, revision_column())
        .options(joinedload(UserSession.user))
        .where(UserSession.key_hash == bindparam("key_hash"))
    )


def _record_use(row: UserSession, now: datetime) -> None:
    """Move last_seen_at (the idle clock) in a small commit of its own, so a GET that
    writes nothing else still keeps its session alive. The commit leaves what is loaded
    loaded: expiring it would make the next read of a lazy="raise" relationship (row.user,
    a flow's bindings) raise instead of loading."""
    db.session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    set_committed_value(row, "last_seen_at", now)
    request_session = db.session()
    request_session.expire_on_commit = False
    try:
        request_session.commit()
    finally:
        request_session.expire_on_commit = True


def sign_in(user: User, lifetime: timedelta, plan_id: str | None) -> UserSession:
    """Start a new session with a new key; the previous one of this browser is revoked."""
    end_current_session()
    key = secrets.token_urlsafe(32)
    now = utcnow()
    values = {
        "key_hash": _hash(key),
        "user_id": user.id,
        "plan_id": plan_id,
        "created_at": now,
        "last_seen_at": now,
        "expires_at": now + lifetime,
        "ip": client_ip(),
        "user_agent": user_agent(),
        "revoked_at": None,
        # Signing in proves the user: adding an authenticator right after needs no more.
        "reauthenticated_at": now,
    }
    row = UserSession(id=_insert_unless_plan_used(values), **values)
    # The row is in the database: the request's session holds it as if it had loaded it.
    make_transient_to_detached(row)
    db.session.add(row)
    set_committed_value(row, "user", user)
    kept = {name: session[name] for name in KEPT_AT_SIGN_IN if name in session}
    session.clear()
    session.update(kept)
    session[SESSION_KEY] = key
    g.user_session = row
    g._login_user = user  # Flask-Login's per-request user, so current_user changes at once
    return row


def hold_user_to_sign_in(user_id: int) -> User | None:
    """The user as stored now (the loaded object refreshed), their row locked until the
    request commits (SQLite: the write lock). A password change or a disabling ends the
    user's sessions in the same transaction as it changes the row: one that committed first
    is seen here; one that comes later waits, and then ends the session this request starts."""
    begin_sqlite_write(db.session.connection())
    return db.session.scalars(_held_user_statement(), {"held_user": user_id}).one_or_none()


@functools.cache
def _held_user_statement():
    # FOR NO KEY UPDATE: rows that merely refer to the user (events, the new session) may
    # still be written by others meanwhile.
    return (
        select(User)
        .where(User.id == bindparam("held_user"))
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )


def on_sessions_ended(app, listener) -> None:
    """Call `listener(session_ids)` whenever sessions end (sign-out, revocation)."""
    app.extensions.setdefault(SESSION_END_LISTENERS, []).append(listener)


def _ended(session_ids: list[int]) -> None:
    if session_ids:
        for listener in current_app.extensions.get(SESSION_END_LISTENERS, ()):
            listener(session_ids)


def end_session(row: UserSession) -> None:
    """Revoke one session (one of the user's other browsers, or an admin's choice)."""
    row.revoked_at = utcnow()
    _ended([row.id])


def _insert_unless_plan_used(values: dict) -> int:
    """Insert the session row in one statement; a plan that signed a session in before (a
    replayed cookie) inserts nothing and raises PlanAlreadyUsed."""
    connection = db.session.connection()
    statement = _insert_statement(
        connection.dialect.name, tuple(values), values["plan_id"] is not None
    )
    parameters = {f"new_{name}": value for name, value in values.items()}
    row_id = connection.execute(statement, parameters).scalar()
    if row_id is None:
        raise PlanAlreadyUsed()
    return row_id


@functools.cache
def _insert_statement(dialect_name: str, columns: tuple[str, ...], has_plan: bool):
    """Built once, with bound parameters (named apart from the columns, as SQLAlchemy asks):
    building it cost more than the database took to run it."""
    table = UserSession.__table__
    statement = upsert_for_dialect(dialect_name)(table).values(
        {name: bindparam(f"new_{name}", type_=table.c[name].type) for name in columns}
    )
    if has_plan:
        statement = statement.on_conflict_do_nothing(index_elements=["plan_id"])
    return statement.returning(table.c.id)


def end_current_session() -> UserSession | None:
    row = load_current_session()
    if row is not None:
        end_session(row)
    session.pop(SESSION_KEY, None)
    g.user_session = None
    g.pop("_login_user", None)
    return row


def forget_user_deleted_meanwhile() -> None:
    """After a rollback: the signed-in user's row was expired with the rest, and a parallel
    request may have deleted the account since (the same "delete my account" sent twice).
    This request then goes on as nobody, rather than fail to load them again."""
    user = g.get("_login_user")
    identity = inspect(user).identity if isinstance(user, User) else None
    if identity is None:  # nobody signed in, or a user this request made and rolled back
        return
    (user_id,) = identity  # known without loading the expired row
    if db.session.scalar(select(User.id).where(User.id == user_id)) is None:
        g.user_session = None
        g.pop("_login_user", None)


def revoke_sessions_of(user: User, keep: UserSession | None = None) -> int:
    """End every session of the user but `keep` (this browser's), and count those that were
    still alive. One that ended by time (idle, or past its lifetime) is revoked too, uncounted:
    the applications it signed in to may still hold sessions of their own, and hear of its end
    now (back-channel logout). The kept one gets a new key: a copy of its cookie taken earlier
    (a stolen one) is shut out with the others."""
    now = utcnow()
    others = [UserSession.user_id == user.id]
    if keep is not None:
        others.append(UserSession.id != keep.id)
    alive_ids = set(db.session.scalars(select(UserSession.id).where(*others, *alive_at(now))))
    statement = (
        update(UserSession)
        .where(*others, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(UserSession.id)
    )
    ended_ids = list(db.session.scalars(statement))
    _ended(ended_ids)
    ended = len(alive_ids.intersection(ended_ids))
    if keep is not None and keep is load_current_session():
        key = secrets.token_urlsafe(32)
        keep.key_hash = _hash(key)
        session[SESSION_KEY] = key
    return ended


SESSIONS_LISTED = 20


@dataclass(frozen=True)
class SessionList:
    """The sessions a page lists (the current one first, then the most recently seen) and
    how many are active in all: a page lists at most SESSIONS_LISTED, however many a script
    that never signs out has left behind."""

    rows: list[UserSession]
    total: int

    @property
    def not_listed(self) -> int:
        return self.total - len(self.rows)


def active_sessions_of(
    user: User, current: UserSession | None = None, limit: int = SESSIONS_LISTED
) -> SessionList:
    """One statement: the count comes beside each row (a window runs before the LIMIT)."""
    now = utcnow()
    timeout = idle_timeout()
    parameters = {"owner": user.id, "now": now, "limit": limit}
    if timeout is not None:
        parameters["idle_since"] = now - timeout
    if current is not None:
        parameters["current"] = current.id
    statement = _active_statement(timeout is not None, current is not None)
    rows = db.session.execute(statement, parameters).all()
    return SessionList([row for row, _ in rows], rows[0][1] if rows else 0)


@functools.cache
def _active_statement(has_idle_timeout: bool, has_current: bool):
    moment = UserSession.expires_at.type
    idle_since = bindparam("idle_since", type_=moment) if has_idle_timeout else None
    alive = alive_clauses(bindparam("now", type_=moment), idle_since)
    order = [UserSession.last_seen_at.desc(), UserSession.id.desc()]
    if has_current:
        order.insert(0, case((UserSession.id == bindparam("current"), 0), else_=1))
    return (
        select(UserSession, func.count().over())
        .where(UserSession.user_id == bindparam("owner"), *alive)
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer()))
    )
