"""Sign-ins and failures per hour over the last day, counted in the database in one query,
and drawn as a small SVG bar chart (the geometry is computed here, the markup is a template)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from idp.core.extensions import db
from idp.models import Event
from idp.models.types import utcnow

HOURS = 24
SIGN_IN = "login"
# A wrong password and a refused passwordless passkey: both are tries to get in that failed.
FAILURES = ("login_failed", "passkey_login_failed")

# The drawing, in SVG user units: one slot per hour, two bars per slot.
SLOT_WIDTH = 20
BAR_WIDTH = 7
PLOT_HEIGHT = 120
PLOT_TOP = 12
LABEL_EVERY = 6


@dataclass(frozen=True)
class Hour:
    start: datetime
    sign_ins: int
    failures: int


@dataclass(frozen=True)
class Bar:
    x: int
    y: int
    width: int
    height: int
    kind: str
    title: str


def hourly_activity(now: datetime | None = None) -> list[Hour]:
    """The last HOURS hours, the current one last, with their sign-ins and failures."""
    end = (now or utcnow()).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    starts = [end - timedelta(hours=HOURS - index) for index in range(HOURS)]
    counts = _count_by_hour(starts, end)
    return [
        Hour(
            start,
            counts.get((index, SIGN_IN), 0),
            sum(counts.get((index, failure), 0) for failure in FAILURES),
        )
        for index, start in enumerate(starts)
    ]


def _count_by_hour(starts: list[datetime], end: datetime) -> dict[tuple[int, str], int]:
    # The hour of each event is a CASE over the hour boundaries: the same SQL on SQLite and
    # PostgreSQL. The subquery lets GROUP BY name the bucket rather than repeat the CASE.
    ends = [start + timedelta(hours=1) for start in starts]
    hour = case(*((Event.created_at < until, index) for index, until in enumerate(ends)))
    events = (
        select(hour.label("hour"), Event.action)
        .where(Event.action.in_((SIGN_IN, *FAILURES)), Event.created_at >= starts[0])
        .where(Event.created_at < end)
        .subquery()
    )
    rows = db.session.execute(
        select(events.c.hour, events.c.action, func.count()).group_by(
            events.c.hour, events.c.action
        )
    )
    return {(hour_index, action): count for hour_index, action, count in rows}


def chart(hours: list[Hour]) -> dict:
    """What the template draws: the bars, the hour labels, the scale and the totals."""
    highest = max([1, *(hour.sign_ins for hour in hours), *(hour.failures for hour in hours)])
    bars = []
    for index, hour in enumerate(hours):
        bars.append(_bar(index, 0, hour.sign_ins, highest, "sign-ins", hour))
        bars.append(_bar(index, BAR_WIDTH, hour.failures, highest, "failures", hour))
    return {
        "bars": [bar for bar in bars if bar.height],
        "labels": [
            (index * SLOT_WIDTH + 3, f"{hour.start:%H}:00")
            for index, hour in enumerate(hours)
            if index % LABEL_EVERY == 0
        ],
        "width": len(hours) * SLOT_WIDTH,
        "baseline": PLOT_TOP + PLOT_HEIGHT,
        "highest": highest,
        "sign_ins": sum(hour.sign_ins for hour in hours),
        "failures": sum(hour.failures for hour in hours),
    }


def _bar(index: int, offset: int, count: int, highest: int, kind: str, hour: Hour) -> Bar:
    height = round(count / highest * PLOT_HEIGHT) if count else 0
    height = max(height, 1) if count else 0
    return Bar(
        x=index * SLOT_WIDTH + 3 + offset,
        y=PLOT_TOP + PLOT_HEIGHT - height,
        width=BAR_WIDTH,
        height=height,
        kind=kind,
        title=_bar_title(hour, kind, count),
    )


def _bar_title(hour: Hour, kind: str, count: int) -> str:
    start, end = f"{hour.start:%H}:00", f"{hour.start + timedelta(hours=1):%H}:00"
    if kind == "sign-ins":
        return _("%(start)s to %(end)s UTC, sign-ins: %(count)s", start=start, end=end, count=count)
    return _("%(start)s to %(end)s UTC, failures: %(count)s", start=start, end=end, count=count)
