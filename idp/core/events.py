"""Writing the audit log, and forgetting it after IDP_EVENT_RETENTION_DAYS. Helpers flush; the
request commits."""

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from idp.core.extensions import db
from idp.models import Event, User
from idp.models.types import utcnow

log = logging.getLogger("idp.core.events")


def record_event(
    action: str,
    *,
    user: User | None = None,
    username: str = "",
    ip: str = "",
    flow_slug: str = "",
    **detail,
) -> Event:
    event = Event(
        action=action,
        user_id=user.id if user else None,
        username=user.username if user else username,
        ip=ip,
        flow_slug=flow_slug,
        detail=detail,
    )
    db.session.add(event)
    log.info(
        "event recorded",
        extra={"action": action, "username": event.username, "flow": flow_slug, "ip": ip},
    )
    return event


def purge() -> int | None:
    """Delete the events older than IDP_EVENT_RETENTION_DAYS (they name people and their IP
    addresses); how many, or None when the setting keeps them all (0). The caller commits."""
    days = current_app.config["EVENT_RETENTION_DAYS"]
    if not days:
        return None
    older = Event.created_at < utcnow() - timedelta(days=days)
    return db.session.execute(delete(Event).where(older)).rowcount
