"""Settings an administrator changes while Gatehouse runs, in the admin's Settings page or
with `idp settings set KEY VALUE`: kept in the database (one row per key), and validated
here only. A key without a row has its default."""

from dataclasses import dataclass

from sqlalchemy import select

from idp.core.database import hold_until_commit
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.flows.revision import kept_under_revision
from idp.models import SiteSetting, User

ON_OFF = ("on", "off")
CACHE_KEY = "gatehouse.site_settings"  # in app.extensions: (flows revision, values)
SETTINGS_LOCK_KEY = 7_154_620_014  # names the advisory lock of change_setting on PostgreSQL


@dataclass(frozen=True)
class Setting:
    key: str
    label: str
    description: str
    choices: tuple[str, ...]
    default: str


SETTINGS = {
    setting.key: setting
    for setting in (
        Setting(
            key="enrollment",
            label=N_("Sign-up"),
            description=N_(
                "Visitors may create their own account: the sign-in page offers "
                '"Create an account" and /enroll opens the enrollment flow. Invitation '
                "links work either way."
            ),
            choices=ON_OFF,
            default="off",
        ),
    )
}


class SettingError(ValueError):
    """An unknown key or a value the key does not take; the message says which."""


def parse(key: str, value: str) -> str:
    """The value as stored (`On ` -> `on`); raises SettingError naming what is wrong."""
    setting = SETTINGS.get(key)
    if setting is None:
        raise SettingError(f"unknown setting {key!r}; known settings: {', '.join(SETTINGS)}")
    cleaned = value.strip().lower() if isinstance(value, str) else ""
    if cleaned not in setting.choices:
        raise SettingError(f"{key} must be one of {', '.join(setting.choices)}, not {value!r}")
    return cleaned


def current_settings() -> dict[str, str]:
    """Every known key with its value, in one query."""
    stored = {
        key: value for key, value in db.session.execute(select(SiteSetting.key, SiteSetting.value))
    }
    values = {}
    for key, setting in SETTINGS.items():
        try:
            values[key] = parse(key, stored.get(key, setting.default))
        except SettingError:
            # A row no longer valid (written by hand) counts as the safe default.
            values[key] = setting.default
    return values


def current_value(key: str) -> str:
    cached = _cached_settings()
    if cached is not None:
        return cached[key]
    setting = SETTINGS[key]
    stored = db.session.scalar(select(SiteSetting.value).where(SiteSetting.key == key))
    try:
        return parse(key, stored if stored is not None else setting.default)
    except SettingError:
        return setting.default


def _cached_settings() -> dict[str, str] | None:
    """Every value, from this worker's cache while the flows revision this request read to run
    its flow is current: a setting's write changes that revision (idp/flows/revision.py), so
    the sign-in page pays no query for it. None outside a flow's request."""
    return kept_under_revision(db.session, CACHE_KEY, current_settings)


def is_enrollment_open() -> bool:
    return current_value("enrollment") == "on"


def change_setting(key: str, value: str, user: User | None = None, ip: str = "") -> bool:
    """Store a new value (validated first, so nothing is written when it is refused) and
    record the change; False when the value was already that. Flushes; the caller commits.
    Two first saves of a key at once would both insert its row: the lock makes the second
    wait for the first, then read and update the row it made."""
    new_value = parse(key, value)
    hold_until_commit(db.session, SETTINGS_LOCK_KEY)
    old_value = current_value(key)
    row = db.session.get(SiteSetting, key, populate_existing=True)
    if row is None:
        db.session.add(SiteSetting(key=key, value=new_value))
    elif row.value != new_value:
        row.value = new_value
    db.session.flush()
    if old_value == new_value:
        return False
    record_event(
        "setting_changed",
        user=user,
        ip=ip,
        target={"kind": "setting", "id": key, "name": key},
        before={key: old_value},
        after={key: new_value},
    )
    return True
