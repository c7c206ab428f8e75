"""The dashboard: what needs the administrator's attention, how Gatehouse is run, counts, the
latest events, and sign-ins and failures over the last day; and the health page, which says
how to fix each warning."""

from flask import render_template
from sqlalchemy import func, select

from idp.admin.dashboard.activity import chart, hourly_activity
from idp.admin.dashboard.health import check, health_columns, schema_in_words
from idp.core.extensions import db
from idp.identity.sessions import alive_at
from idp.models import Event, Flow, Policy, Stage, User, UserSession
from idp.models.types import utcnow

RECENT_EVENTS = 10


def _count(model, *conditions):
    return select(func.count()).select_from(model).where(*conditions).scalar_subquery()


def counts() -> dict:
    """Users, active sessions, flows, stages and policies, and the facts the health checks
    need from the database, in one query."""
    active = alive_at(utcnow())
    row = db.session.execute(
        select(
            _count(User).label("users"),
            _count(UserSession, *active).label("sessions"),
            _count(Flow).label("flows"),
            _count(Stage).label("stages"),
            _count(Policy).label("policies"),
            *health_columns(),
        )
    ).one()
    return row._asdict()


def recent_events() -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).order_by(Event.created_at.desc(), Event.id.desc()).limit(RECENT_EVENTS)
        )
    )


def dashboard():
    numbers = counts()
    return render_template(
        "admin/dashboard.html",
        counts=numbers,
        health=check(numbers),
        events=recent_events(),
        chart=chart(hourly_activity()),
    )


def health():
    return render_template(
        "admin/health.html", health=check(counts()), schema_in_words=schema_in_words
    )
