"""A flow's Export and Import tabs: the flow as a YAML file, and a file read, previewed and
imported. idp/transfer reads and writes the files, with YAML and every stage type's reader:
these views are imported on their first request (routes.py), not by every worker at start."""

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from idp.admin.audit import record_change
from idp.admin.flows.forms import ImportForm
from idp.admin.flows.routes import SLUG_TAKEN, flow_or_404, flow_summary, flow_target
from idp.admin.helpers import INVALID, saved_unless_taken
from idp.core.extensions import db
from idp.flows.loading import load_flow
from idp.models import Flow
from idp.transfer.authentik.tags import looks_like_blueprint
from idp.transfer.document import FlowFileError, parse_text, read_document
from idp.transfer.exporter import dump_yaml, export_flow
from idp.transfer.importer import check_references, import_documents

# The confirmation sends the file back as a form field, which the app caps at 256 KiB.
IMPORT_LIMIT = 256 * 1024


def export_page(slug: str):
    return render_template("admin/flows/export.html", flow=flow_or_404(slug))


def download_flow(slug: str):
    document = export_flow(slug)
    if document is None:
        abort(404, description=_("There is no such flow."))
    return Response(
        dump_yaml(document),
        mimetype="application/yaml",
        headers={"Content-Disposition": f'attachment; filename="{slug}.yaml"'},
    )


def import_new_page():
    return render_import(None, ImportForm(formdata=None))


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
    if looks_like_blueprint(raw):
        # Its tags (!Find, !KeyOf) are read only by the command line's blueprint reader.
        raise FlowFileError(
            [
                _(
                    "%(source)s: an authentik blueprint is imported with `idp flows import`, "
                    "not on this page",
                    source=source,
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


def preview_new_import():
    return _preview(None)


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


def confirm_new_import():
    form = ImportForm()
    if not form.validate():
        return render_import(None, form, INVALID)
    raw, source = uploaded_text(form)
    try:
        with saved_unless_taken(form.file, SLUG_TAKEN) as done:
            document = read_upload(None, raw, source)
            changes = import_documents([(document, source)])
            flow = flow_or_404(document.flow.slug)
            written = [str(change) for change in changes if change.action != "unchanged"]
            summary = flow_summary(flow)
            record_change("admin_flow_imported", flow_target(flow), {}, summary, changes=written)
    except FlowFileError as error:
        db.session.rollback()
        return render_import(None, form, INVALID, problems=error.problems)
    if not done.saved:
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
