"""Flows: list, create, edit, delete, and the flow page's Overview tab. The Export and Import
tabs are in files.py, the binding tabs in bindings.py."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, or_, select

from idp.admin.audit import describe, record_change, record_deletion
from idp.admin.flows.forms import (
    AUTHENTICATION_LABELS,
    DENIED_LABELS,
    DESIGNATION_LABELS,
    ENGINE_LABELS,
    FlowForm,
)
from idp.admin.helpers import INVALID, hold_to_delete, saved_unless_taken
from idp.admin.pagination import paginate
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.flows.loading import load_flow
from idp.identity.deletion import delete_where
from idp.models import Application, Flow, Invitation, Provider, Stage, StageBinding
from idp.models.flows import FLOW_FIELDS

SLUG_TAKEN = _l("A flow with this slug was just created.")
PROVIDER_FLOW_COLUMNS = (
    Provider.authorization_flow_id,
    Provider.authentication_flow_id,
    Provider.invalidation_flow_id,
)
LABELS = {
    "designation": DESIGNATION_LABELS,
    "authentication": AUTHENTICATION_LABELS,
    "denied_action": DENIED_LABELS,
    "policy_engine_mode": ENGINE_LABELS,
}


def flow_values(flow: Flow) -> dict:
    return {name: getattr(flow, name) for name in FLOW_FIELDS}


def flow_summary(flow: Flow) -> dict:
    """The flow's settings and its steps in order, as the audit log keeps them."""
    stages = [f"{binding.order}: {binding.stage.name}" for binding in flow.bindings]
    gates = [binding.subject_label for binding in flow.policy_bindings]
    return {**flow_values(flow), "stages": stages, "policies": gates}


def flow_target(flow: Flow) -> dict:
    return describe("flow", flow, flow.slug)


def flow_or_404(slug: str) -> Flow:
    flow = load_flow(slug)
    if flow is None:
        abort(404, description=_("There is no such flow."))
    return flow


def flows():
    stage_count = func.count(StageBinding.id)
    statement = (
        select(Flow, stage_count)
        .outerjoin(StageBinding, StageBinding.flow_id == Flow.id)
        .group_by(Flow.id)
        .order_by(Flow.slug)
    )
    return render_template("admin/flows/list.html", page=paginate(statement), labels=LABELS)


def new_flow():
    form = FlowForm()
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/flows/new.html", form=form), status
    flow = Flow()
    form.populate_obj(flow)
    with saved_unless_taken(form.slug, SLUG_TAKEN) as done:
        db.session.add(flow)
        db.session.flush()
        record_change("admin_flow_created", flow_target(flow), after=flow_values(flow))
    if not done.saved:
        return render_template("admin/flows/new.html", form=form), INVALID
    flash(_("The flow %(slug)s was created.", slug=flow.slug), "info")
    return redirect(url_for("admin.flows.flow", slug=flow.slug), code=303)


def flow(slug: str):
    return render_template("admin/flows/overview.html", flow=flow_or_404(slug), labels=LABELS)


def edit_flow(slug: str):
    flow = flow_or_404(slug)
    form = FlowForm(obj=flow, editing=flow)
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/flows/edit.html", flow=flow, form=form), status
    before = flow_values(flow)
    with saved_unless_taken(form.slug, SLUG_TAKEN) as done:
        form.populate_obj(flow)
        record_change("admin_flow_changed", flow_target(flow), before, flow_values(flow))
    if not done.saved:
        return render_template("admin/flows/edit.html", flow=flow, form=form), INVALID
    flash(_("The flow was saved."), "info")
    return redirect(url_for("admin.flows.flow", slug=flow.slug), code=303)


def where_used(slug: str) -> list[str]:
    """What links to the flow, in words: stages that send people to it (an enrollment or
    recovery link), invitations that open it and applications that sign in or out through it."""
    places = [
        _("the stage %(name)s", name=name)
        for name, options in db.session.execute(select(Stage.name, Stage.options))
        if slug in _strings_in(options)
    ]
    invitations = db.session.scalar(
        select(func.count()).select_from(Invitation).where(Invitation.flow_slug == slug)
    )
    if invitations:
        places.append(ngettext("%(num)d invitation link", "%(num)d invitation links", invitations))
    flow_id = select(Flow.id).where(Flow.slug == slug).scalar_subquery()
    uses = or_(*(column == flow_id for column in PROVIDER_FLOW_COLUMNS))
    places.extend(
        _(
            "the application %(name)s, which then signs in or out through the default flow",
            name=name,
        )
        for name in db.session.scalars(
            select(Application.name).join(Provider).where(uses).order_by(Application.name)
        )
    )
    return places


def authorizing(flow: Flow) -> list[str]:
    """Applications that authorize through the flow: the foreign key (ON DELETE RESTRICT)
    forbids deleting it, and SQLite would not say so."""
    return list(
        db.session.scalars(
            select(Application.name)
            .join(Provider)
            .where(Provider.authorization_flow_id == flow.id)
            .order_by(Application.name)
        )
    )


def _strings_in(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_strings_in(item) for item in value))
    return set()


def confirm_flow_deletion(slug: str):
    flow = flow_or_404(slug)
    return render_deletion(flow)


def render_deletion(flow: Flow, status: int = 200):
    page = render_template(
        "admin/flows/delete.html",
        flow=flow,
        used=where_used(flow.slug),
        authorizing=authorizing(flow),
        form=Form(),
    )
    return page, status


def delete_flow(slug: str):
    """With its bindings, and unset as any application's sign-in or sign-out flow, as the
    foreign keys say, written out (idp/identity/deletion.py): SQLite gives the id to the next
    flow made, which would take over any place left behind."""
    flow = flow_or_404(slug)
    hold_to_delete(flow)
    if authorizing(flow):  # asked under the lock: an application switching to it waits
        return render_deletion(flow, 409)
    target, before = flow_target(flow), flow_values(flow)
    deleted = delete_where(Flow.__table__, Flow.id == flow.id)
    record_deletion("admin_flow_deleted", target, before, deleted)
    db.session.commit()
    flash(_("The flow %(slug)s was deleted.", slug=slug), "info")
    return redirect(url_for("admin.flows.flows"), code=303)
