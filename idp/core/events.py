"""Writing the audit log. Helpers flush; the request commits."""

import logging

from idp.core.extensions import db
from idp.models import Event, User

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
