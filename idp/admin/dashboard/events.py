"""The audit log: newest first, filtered by action, user and dates, 50 to a page."""

from datetime import UTC, datetime, time

from flask import render_template, request
from sqlalchemy import func, select

from idp.admin.dashboard.event_actions import offered_actions
from idp.admin.dashboard.forms import EventFilterForm
from idp.admin.helpers import INVALID
from idp.admin.pagination import paginate
from idp.core.extensions import db
from idp.models import Event


def known_actions() -> list[tuple[str, str]]:
    """For the action field's suggestions: every action Gatehouse records, with its words,
    and any other the log holds."""
    recorded = db.session.scalars(select(Event.action).distinct().order_by(Event.action))
    return offered_actions(list(recorded))


def filtered_events(form: EventFilterForm):
    statement = select(Event).order_by(Event.created_at.desc(), Event.id.desc())
    if form.action.data:
        statement = statement.where(Event.action == form.action.data)
    if form.username.data:
        statement = statement.where(func.lower(Event.username) == form.username.data.lower())
    if form.since.data:
        statement = statement.where(Event.created_at >= _utc(form.since.data, time.min))
    if form.until.data:
        statement = statement.where(Event.created_at <= _utc(form.until.data, time.max))
    return statement


def _utc(day, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=UTC)


def events():
    form = EventFilterForm(request.args)
    if not form.validate():
        page = render_template("admin/events.html", form=form, page=None, actions=known_actions())
        return page, INVALID
    return render_template(
        "admin/events.html",
        form=form,
        page=paginate(filtered_events(form)),
        actions=known_actions(),
    )
