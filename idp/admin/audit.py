"""Every admin change goes into the audit log: who made it, on what, and the values before and
after. Secrets never do: a password or its hash is named as changed, never written down."""

from sqlalchemy.orm.exc import StaleDataError

from idp.admin.helpers import current_admin
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.network import client_ip
from idp.models import Event

SECRET_FIELDS = frozenset({"password", "password_hash"})


def record_change(
    action: str,
    target: dict,
    before: dict | None = None,
    after: dict | None = None,
    **detail,
) -> Event:
    """Record `action` by the signed-in admin on `target` ({"kind", "id", "name"}).
    For an edit only the fields that changed are kept; a creation has no `before`, a
    removal no `after`."""
    before, after = _changed(_public(before), _public(after))
    return record_event(
        action,
        user=current_admin(),
        ip=client_ip(),
        target=target,
        before=before,
        after=after,
        **detail,
    )


def record_deletion(action: str, target: dict, before: dict, deleted: int) -> Event:
    """Record the removal of `target` by the request whose DELETE met it (`deleted`: the rows
    it met). None: another request deleted it after this one found it (a double click on
    Delete waits for the first click's transaction, then meets nothing). That one recorded
    it; this one's writes are undone, and it answers that the row was deleted meanwhile."""
    if not deleted:
        db.session.rollback()
        raise StaleDataError(f"{target.get('kind')} {target.get('id')} was deleted meanwhile")
    return record_change(action, target, before=before)


def describe(kind: str, row, name: str) -> dict:
    """The `target` of an event: what kind of thing, its id, and its name at the time."""
    return {"kind": kind, "id": row.id, "name": name}


def _public(values: dict | None) -> dict:
    return {key: value for key, value in (values or {}).items() if key not in SECRET_FIELDS}


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    if not before or not after:
        return before, after
    keys = [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]
    return (
        {key: before.get(key) for key in sorted(keys)},
        {key: after.get(key) for key in sorted(keys)},
    )


def detail_lines(detail) -> list[str]:
    """An event's detail in words for the log: what it was done to, each value that changed
    (before → after), then the rest."""
    if not isinstance(detail, dict):
        return []
    lines = []
    target = detail.get("target")
    if isinstance(target, dict):
        lines.append(f"{target.get('kind', '')} {target.get('name', '')}".strip())
    before, after = _as_dict(detail.get("before")), _as_dict(detail.get("after"))
    for key in sorted(before.keys() | after.keys()):
        lines.append(f"{key}: {_shown(before, key)} → {_shown(after, key)}")
    rest = (key for key in detail if key not in ("target", "before", "after"))
    lines.extend(f"{key}: {detail[key]}" for key in rest)
    return lines


def _as_dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _shown(values: dict, key: str) -> str:
    return "—" if key not in values else str(values[key])
