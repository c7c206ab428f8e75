"""Flows: list, create, edit, delete, and the flow page's Overview, Export and Import tabs.
The binding tabs are in flows_bindings.py."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, select

from idp.admin.audit import describe, record_change
from idp.admin.flows.forms import (
    AUTHENTICATION_LABELS,
    DENIED_LABELS,
    DESIGNATION_LABELS,
    ENGINE_LABELS,
    FlowForm,
    ImportForm,
)
from idp.admin.helpers import INVALID, commit_unless_taken
from idp.admin.pagination import paginate
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.flows.loading import load_flow
from idp.models import Flow, Invitation, PolicyBinding, Stage, StageBinding
from idp.models.flows import FLOW_FIELDS
from idp.transfer.document import FlowFileError, parse_text, read_document
from idp.transfer.exporter import dump_yaml, export_flow
from idp.transfer.importer import check_references, import_documents

# The confirmation sends the file back as a form field, which the app caps at 256 KiB.
bp = Blueprint("flows", __name__, template_folder="templates")


IMPORT_LIMIT = 256 * 1024
SLUG_TAKEN = _l("A flow with this slug was just created.")
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


@bp.get("/flows")
def flows():
    stage_count = func.count(StageBinding.id)
    statement = (
        select(Flow, stage_count)
        .outerjoin(StageBinding, StageBinding.flow_id == Flow.id)
        .group_by(Flow.id)
        .order_by(Flow.slug)
    )
    return render_template("admin/flows/list.html", page=paginate(statement), labels=LABELS)


@bp.route("/flows/new", methods=["GET", "POST"])
def new_flow():
    form = FlowForm()
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/flows/new.html", form=form), status
    flow = Flow()
    form.populate_obj(flow)
    db.session.add(flow)
    db.session.flush()
    record_change("admin_flow_created", flow_target(flow), after=flow_values(flow))
    if not commit_unless_taken(form.slug, SLUG_TAKEN):
        return render_template("admin/flows/new.html", form=form), INVALID
    flash(_("The flow %(slug)s was created.", slug=flow.slug), "info")
    return redirect(url_for("admin.flows.flow", slug=flow.slug), code=303)


@bp.get("/flows/<slug>/")
def flow(slug: str):
    return render_template("admin/flows/overview.html", flow=flow_or_404(slug), labels=LABELS)


@bp.route("/flows/<slug>/edit", methods=["GET", "POST"])
def edit_flow(slug: str):
    flow = flow_or_404(slug)
    form = FlowForm(obj=flow, editing=flow)
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/flows/edit.html", flow=flow, form=form), status
    before = flow_values(flow)
    form.populate_obj(flow)
    record_change("admin_flow_changed", flow_target(flow), before, flow_values(flow))
    if not commit_unless_taken(form.slug, SLUG_TAKEN):
        return render_template("admin/flows/edit.html", flow=flow, form=form), INVALID
    flash(_("The flow was saved."), "info")
    return redirect(url_for("admin.flows.flow", slug=flow.slug), code=303)


def where_used(slug: str) -> list[str]:
    """What links to the flow by its slug, in words: stages that send people to it (an
    enrollment or recovery link) and invitations that open it."""
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
    return places


def _strings_in(value) -> set[str]:
    if isinstance(value, str):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(_strings_in(item) for item in value))
    return set()


@bp.get("/flows/<slug>/delete")
def confirm_flow_deletion(slug: str):
    flow = flow_or_404(slug)
    return render_template("admin/flows/delete.html", flow=flow, used=where_used(slug), form=Form())


@bp.post("/flows/<slug>/delete")
def delete_flow(slug: str):
    flow = flow_or_404(slug)
    record_change("admin_flow_deleted", flow_target(flow), before=flow_values(flow))
    binding_ids = select(StageBinding.id).where(StageBinding.flow_id == flow.id)
    # Children first: SQLite does not enforce the foreign keys' ON DELETE CASCADE.
    db.session.execute(
        delete(PolicyBinding).where(
            (PolicyBinding.flow_id == flow.id) | PolicyBinding.stage_binding_id.in_(binding_ids)
        )
    )
    db.session.execute(delete(StageBinding).where(StageBinding.flow_id == flow.id))
    db.session.execute(delete(Flow).where(Flow.id == flow.id))
    db.session.commit()
    flash(_("The flow %(slug)s was deleted.", slug=slug), "info")
    return redirect(url_for("admin.flows.flows"), code=303)


# -- Export and import -----------------------------------------------------------------------


@bp.get("/flows/<slug>/export")
def export_page(slug: str):
    return render_template("admin/flows/export.html", flow=flow_or_404(slug))


@bp.get("/flows/<slug>/export.yaml")
def download_flow(slug: str):
    document = export_flow(slug)
    if document is None:
        abort(404, description=_("There is no such flow."))
    return Response(
        dump_yaml(document),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{slug}.yaml"'},
    )


@bp.get("/flows/import")
def import_new_page():
    return render_import(None, ImportForm(formdata=None))


@bp.get("/flows/<slug>/import")
def import_page(slug: str):
    return render_import(flow_or_404(slug), ImportForm(formdata=None))


def render_import(flow, form, status=200, **preview):
    page = render_template("admin/flows/import.html", flow=flow, form=form, **preview)
    return page, status


def uploaded_text(form: ImportForm) -> tuple[bytes, str]:
    """The file's bytes and name, from the upload or (on confirmation) the preview's textarea."""
    upload = form.file.data
    if upload and getattr(upload, "filename", ""):
        return upload.read(IMPORT_LIMIT + 1), upload.filename
    return (form.content.data or "").encode(), request.form.get("source", "upload.yaml")


def read_upload(flow: Flow | None, raw: bytes, source: str):
    """The checked document, or FlowFileError naming every problem with its place. Without a
    flow, the file must describe a new one."""
    if not raw.strip():
        raise FlowFileError([_("Choose a file to upload.")])
    if len(raw) > IMPORT_LIMIT:
        raise FlowFileError(
            [
                _(
                    "%(source)s: larger than %(import_limit)s KiB",
                    source=source,
                    import_limit=IMPORT_LIMIT // 1024,
                )
            ]
        )
    document = read_document(parse_text(raw, source), source)
    if document.flow is None or document.applications:
        # A new client's secret is shown once, on the command line that imports it.
        raise FlowFileError(
            [
                _(
                    "%(source)s: applications are imported with `idp flows import`, not on a "
                    "flow's page",
                    source=source,
                )
            ]
        )
    problems = check_references(document, source)
    if flow is not None and document.flow.slug != flow.slug:
        problems.append(
            _(
                "%(source)s: flow.slug: describes %(slug)s, not %(slug2)s",
                source=source,
                slug=repr(document.flow.slug),
                slug2=repr(flow.slug),
            )
        )
    if flow is None and load_flow(document.flow.slug) is not None:
        problems.append(
            _(
                "%(source)s: flow.slug: the flow %(slug)s exists already; import the file from "
                "that flow's Import tab to change it",
                source=source,
                slug=repr(document.flow.slug),
            )
        )
    if problems:
        raise FlowFileError(problems)
    return document


@bp.post("/flows/import")
def preview_new_import():
    return _preview(None)


@bp.post("/flows/<slug>/import")
def preview_import(slug: str):
    return _preview(flow_or_404(slug))


def _preview(flow: Flow | None):
    """A dry run: the import is written inside the transaction, listed, and rolled back."""
    form = ImportForm()
    if not form.validate():
        return render_import(flow, form, INVALID)
    raw, source = uploaded_text(form)
    try:
        changes = import_documents([(read_upload(flow, raw, source), source)])
    except FlowFileError as error:
        return render_import(flow, form, INVALID, problems=error.problems)
    finally:
        db.session.rollback()
    flow = flow if flow is None else flow_or_404(flow.slug)
    content = raw.decode()
    return render_import(flow, form, changes=changes, content=content, source=source)


@bp.post("/flows/import/confirm")
def confirm_new_import():
    form = ImportForm()
    if not form.validate():
        return render_import(None, form, INVALID)
    raw, source = uploaded_text(form)
    try:
        document = read_upload(None, raw, source)
        changes = import_documents([(document, source)])
    except FlowFileError as error:
        db.session.rollback()
        return render_import(None, form, INVALID, problems=error.problems)
    flow = flow_or_404(document.flow.slug)
    written = [str(change) for change in changes if change.action != "unchanged"]
    record_change("admin_flow_imported", flow_target(flow), {}, flow_summary(flow), changes=written)
    if not commit_unless_taken(form.file, SLUG_TAKEN):
        return render_import(None, form, INVALID)
    flash(
        ngettext(
            "The flow was imported: %(num)d change.",
            "The flow was imported: %(num)d changes.",
            len(written),
        ),
        "info",
    )
    return redirect(url_for("admin.flows.flow", slug=document.flow.slug), code=303)


@bp.post("/flows/<slug>/import/confirm")
def confirm_import(slug: str):
    flow = flow_or_404(slug)
    form = ImportForm()
    if not form.validate():
        return render_import(flow, form, INVALID)
    raw, source = uploaded_text(form)
    before = flow_summary(flow)
    try:
        changes = import_documents([(read_upload(flow, raw, source), source)])
    except FlowFileError as error:
        db.session.rollback()
        return render_import(flow, form, INVALID, problems=error.problems)
    written = [str(change) for change in changes if change.action != "unchanged"]
    db.session.expire_all()
    after = flow_summary(flow_or_404(slug))
    record_change("admin_flow_imported", flow_target(flow), before, after, changes=written)
    db.session.commit()
    flash(
        ngettext(
            "The file was imported: %(num)d change.",
            "The file was imported: %(num)d changes.",
            len(written),
        ),
        "info",
    )
    return redirect(url_for("admin.flows.flow", slug=slug), code=303)
