"""The flows revision: one value in the database that every write to what a flow does changes.

Any session that writes a flow, stage, policy or binding (or deletes or renames a group or
user a binding may name: the database deletes their bindings by cascade, and their names are
in binding labels; or writes a site setting, which opens or closes sign-up; or the brand)
sets a new random revision in the same transaction, from the ORM's flush or from a bulk
UPDATE/DELETE. A worker's cached flows (idp/flows/loading.py) are good while the revision it
reads is the one they were loaded under, so an edit committed by any process on any machine
is seen by the next request everywhere. The site settings are cached under the same revision
(idp/identity/site_settings.py), the brand (idp/brand/settings.py), which self-service
flows exist (/me's links) and the applications forward auth protects (with their bindings,
idp/providers/proxy/targets.py), so a flow's page does not read them again; nor does a
signed-in visitor's page, whose session is read together with the revision
(idp/identity/sessions.py). Writes to applications, providers and signing keys change it
too: the OpenID Connect applications and the current signing keys are kept under it
(idp/providers/oauth2/clients.py, keys.py).
"""

import secrets

from flask import current_app, g, has_request_context
from sqlalchemy import event, inspect, select
from sqlalchemy.orm import Session

from idp.core.database import loaded_apart, upsert_for
from idp.models import (
    Application,
    Brand,
    Flow,
    FlowsRevision,
    Group,
    Policy,
    PolicyBinding,
    Provider,
    SigningKey,
    SiteSetting,
    Stage,
    StageBinding,
    User,
)

REVISION_ROW = 1
CHANGED = "gatehouse.flows_changed"  # in Session.info: this transaction changed flows
WATCHED = (
    Flow,
    Stage,
    StageBinding,
    Policy,
    PolicyBinding,
    SiteSetting,
    Brand,
    Application,
    Provider,
    SigningKey,
)
REQUEST_REVISION = "gatehouse_flows_revision"  # in flask.g: the revision this request read
WATCHED_TABLES = {model.__table__ for model in WATCHED}
DELETE_WATCHED_TABLES = WATCHED_TABLES | {Group.__table__, User.__table__}


_TABLE = FlowsRevision.__table__
# Built once, sent on the session's connection: every flow request reads it, and the ORM's
# execute path cost more than the query itself.
_READ_REVISION = select(_TABLE.c.revision).where(_TABLE.c.id == REVISION_ROW)


def read_revision(session) -> str | None:
    """The committed revision (or this transaction's own); None if the row is missing."""
    if session.new or session.dirty or session.deleted:
        session.flush()  # as the ORM's execute would: a pending edit changes the revision
    return session.connection().execute(_READ_REVISION).scalar()


def revision_column():
    """The revision as a column of another query: a query a request makes anyway (the
    session's) reads it for free."""
    return (
        select(FlowsRevision.revision)
        .where(FlowsRevision.id == REVISION_ROW)
        .scalar_subquery()
        .label("flows_revision")
    )


def remember_for_request(value: str) -> None:
    """The revision this request read (to run its flow), for what else is cached under it."""
    if has_request_context():
        setattr(g, REQUEST_REVISION, value)


def request_revision(session) -> str | None:
    """The revision this request already read, unless its own transaction changed it since;
    None when it read none."""
    if not has_request_context() or changed_in_this_transaction(session):
        return None
    return g.get(REQUEST_REVISION)


def kept_under_revision(session, key: str, load):
    """What `load()` gives, kept in this worker (app.extensions[key]) while the flows revision
    this request read is current. None when the request read none (or its own transaction
    changed flows since): the caller then reads only what it needs."""
    return _kept(session, key, load, request_revision(session))


def kept_apart(session, key: str, load):
    """What `load(loader)` gives, loaded apart from the request's session (loaded_apart) and
    kept under the revision for every request and thread of the worker, which only read it.
    A request that read no revision (a client's call, with no session cookie) reads it now,
    one small query in place of the loading. A transaction that changed the revision loads
    its own with `load(session)`."""
    current = request_revision(session)
    if current is None and has_request_context():
        current = _read_for_request(session)
    kept = _kept(session, key, lambda: loaded_apart(session, load), current)
    return kept if kept is not None else load(session)


def _kept(session, key: str, load, current: str | None):
    if current is None:
        return None
    kept = current_app.extensions.get(key)
    if kept is not None and kept[0] == current:
        return kept[1]
    value = load()
    current_app.extensions[key] = (current, value)
    return value


def _read_for_request(session) -> str | None:
    if changed_in_this_transaction(session):
        return None
    current = read_revision(session)
    if current is not None:
        remember_for_request(current)
    return current


def changed_in_this_transaction(session) -> bool:
    """What this transaction loads may be rolled back: it must not be cached."""
    return bool(session.info.get(CHANGED))


def new_revision(session) -> None:
    connection = session.connection()
    value = secrets.token_hex(16)
    connection.execute(
        upsert_for(connection)(FlowsRevision.__table__)
        .values(id=REVISION_ROW, revision=value)
        .on_conflict_do_update(index_elements=["id"], set_={"revision": value})
    )
    session.info[CHANGED] = True


def _changes_flows(session) -> bool:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, WATCHED):
            return True
        if isinstance(instance, Group | User):
            if instance in session.deleted:
                return True
            name = "name" if isinstance(instance, Group) else "username"
            if inspect(instance).attrs[name].history.has_changes():
                return True
    return False


@event.listens_for(Session, "before_flush")
def _before_flush(session, flush_context, instances):
    if _changes_flows(session):
        new_revision(session)


@event.listens_for(Session, "do_orm_execute")
def _on_bulk_write(state):
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    watched = DELETE_WATCHED_TABLES if state.is_delete else WATCHED_TABLES
    if table in watched:
        new_revision(state.session)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _transaction_over(session):
    # A request whose own transaction changed the revision no longer holds the current one.
    if session.info.pop(CHANGED, None) and has_request_context():
        g.pop(REQUEST_REVISION, None)
