"""What stages and policies share in the admin: a name, a type from a registry, and options
edited through that type's own OptionsForm. Create is two steps (the type, then its
settings); a row whose type is not installed is shown as such, never a 500."""

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import delete

from idp.admin.audit import describe, record_change, record_deletion
from idp.admin.helpers import INVALID, find_or_404, hold_to_delete, saved_unless_taken
from idp.core.extensions import db
from idp.core.forms import Form

# Refused because of the row's state (in use, type missing), not because of the input.
CONFLICT = 409


@dataclass(frozen=True)
class Catalog:
    kind: str  # "stage", "policy"
    plural: str
    model: type
    registry: dict
    form_class: type
    # Where a row is used, in words; a row used anywhere is not deleted.
    where_used: Callable
    list_endpoint: str
    # The endpoints of one row take `<kind>_id`.
    row_endpoint: str

    def row_url(self, row, action: str = "") -> str:
        endpoint = f"{self.row_endpoint}{action}"
        return url_for(endpoint, **{f"{self.kind}_id": row.id})

    def target(self, row) -> dict:
        return describe(self.kind, row, row.name)

    def type_of(self, row):
        return self.registry.get(row.type)


def installed_or_404(catalog: Catalog, type_name: str):
    row_type = catalog.registry.get(type_name)
    if row_type is None:
        if catalog.kind == "stage":
            words = _("The stage type %(type)s is not installed.", type=repr(type_name))
        else:
            words = _("The policy type %(type)s is not installed.", type=repr(type_name))
        abort(404, description=words)
    return row_type


def choose_type(
    catalog: Catalog, new_endpoint: str, template: str = "admin/catalog/choose.html", **context
):
    """Step 1: the installed types, each a link to `new_endpoint` with its `type_name`."""
    types = sorted(catalog.registry.values(), key=lambda row_type: row_type.label.lower())
    return render_template(
        template, catalog=catalog, types=types, new_endpoint=new_endpoint, **context
    )


@dataclass
class NewRow:
    """Step 2 of creating a row: its name form, its type's settings form, and the options
    as stored once everything sent is good (None until then)."""

    row_type: object
    form: Form
    options_form: Form
    options: dict | None


def read_new(catalog: Catalog, type_name: str, *other_forms) -> NewRow:
    """The forms of a new row of `type_name`, read from the request. `other_forms` (sent in
    the same request) are validated too, so every message shows at once."""
    row_type = installed_or_404(catalog, type_name)
    form, options_form = catalog.form_class(), _options_form(row_type, {})
    options = _read(form, options_form, *other_forms)
    return NewRow(row_type, form, options_form, options)


def add_row(catalog: Catalog, new: NewRow):
    """Add the row (flushed, not committed) and record its creation."""
    row = catalog.model(name=new.form.name.data, type=new.row_type.name, options=new.options)
    db.session.add(row)
    db.session.flush()
    record_change(f"admin_{catalog.kind}_created", catalog.target(row), after=_values(row))
    return row


def saving_new(catalog: Catalog, new: NewRow):
    """Around add_row and what goes with it: commits after the block; `saved` stays False
    (all rolled back, the message at the name) when a parallel request took the name first."""
    return saved_unless_taken(new.form.name, _taken_words(catalog))


def create(catalog: Catalog, type_name: str):
    new = read_new(catalog, type_name)
    if new.options is None:
        return _render_new(catalog, new.row_type, new.form, new.options_form)
    with saving_new(catalog, new) as done:
        row = add_row(catalog, new)
    if not done.saved:
        return _render_new(catalog, new.row_type, new.form, new.options_form)
    if catalog.kind == "stage":
        flash(_("The stage %(name)s was created.", name=row.name), "info")
    else:
        flash(_("The policy %(name)s was created.", name=row.name), "info")
    return redirect(url_for(catalog.list_endpoint), code=303)


def _render_new(catalog: Catalog, row_type, form, options_form):
    page = render_template(
        "admin/catalog/new.html",
        catalog=catalog,
        row_type=row_type,
        form=form,
        options_form=options_form,
    )
    return page, shown_status(options_form)


def edit(catalog: Catalog, row_id: int, **extra):
    row = find_or_404(catalog.model, row_id, catalog.kind)
    row_type = catalog.type_of(row)
    if row_type is None:
        return render_edit(catalog, row, None, None, CONFLICT if _posted() else 200, **extra)
    form = catalog.form_class(obj=row)
    form.editing = row
    options_form = _options_form(row_type, row.options)
    options = _read(form, options_form)
    if options is None:
        return render_edit(catalog, row, form, options_form, shown_status(options_form), **extra)
    before, old_options = _values(row), dict(row.options or {})
    with saved_unless_taken(form.name, _taken_words(catalog)) as done:
        row.name, row.options = form.name.data, options
        after = _values(row, old_options)
        record_change(f"admin_{catalog.kind}_edited", catalog.target(row), before, after)
    if not done.saved:
        return render_edit(catalog, row, form, options_form, INVALID, **extra)
    if catalog.kind == "stage":
        flash(_("The stage %(name)s was saved.", name=row.name), "info")
    else:
        flash(_("The policy %(name)s was saved.", name=row.name), "info")
    return redirect(catalog.row_url(row), code=303)


def render_edit(catalog: Catalog, row, form, options_form, status: int = 200, **extra):
    page = render_template(
        f"admin/{catalog.plural}/edit.html",
        catalog=catalog,
        row=row,
        row_type=catalog.type_of(row),
        form=form,
        options_form=options_form,
        used=catalog.where_used(row),
        **extra,
    )
    return page, status


def confirm_deletion(catalog: Catalog, row_id: int):
    row = find_or_404(catalog.model, row_id, catalog.kind)
    return _render_deletion(catalog, row, catalog.where_used(row))


def remove(catalog: Catalog, row_id: int):
    """A row still in use is not deleted: say where, so the admin can unbind it first. The
    row is held before that is asked: a binding made to it meanwhile either committed first
    and is seen here, or waits and then finds the row gone. Never is a binding just made
    deleted with it, leaving what it guarded open."""
    row = find_or_404(catalog.model, row_id, catalog.kind)
    hold_to_delete(row)
    used = catalog.where_used(row)
    if used:
        return _render_deletion(catalog, row, used, CONFLICT)
    name, target, before = row.name, catalog.target(row), _values(row)
    deleted = db.session.execute(delete(catalog.model).where(catalog.model.id == row.id)).rowcount
    record_deletion(f"admin_{catalog.kind}_deleted", target, before, deleted)
    db.session.commit()
    if catalog.kind == "stage":
        flash(_("The stage %(name)s was deleted.", name=name), "info")
    else:
        flash(_("The policy %(name)s was deleted.", name=name), "info")
    return redirect(url_for(catalog.list_endpoint), code=303)


def _render_deletion(catalog: Catalog, row, used: list[str], status: int = 200):
    page = render_template(
        "admin/catalog/delete.html", catalog=catalog, row=row, used=used, form=Form()
    )
    return page, status


def _posted() -> bool:
    return request.method == "POST"


def _options_form(row_type, stored: dict):
    form_class = row_type.options_form
    return form_class.submitted(stored) if _posted() else form_class.prefilled(stored)


def shown_status(options_form) -> int:
    """A page of settings shown again: 200 when opened or rearranged (a field added to the
    prompt editor), 400 when what was sent is refused."""
    return INVALID if _posted() and not options_form.is_rearranged else 200


def _read(form, options_form, *other_forms) -> dict | None:
    """The options as stored when the name, the options and any other forms sent with them
    are all good, else None. All are checked, so every message shows at once. A form sent
    only to rearrange itself is not read."""
    if not _posted() or options_form.is_rearranged:
        return None
    forms_are_good = all([form.validate_on_submit(), *(f.validate() for f in other_forms)])
    options = options_form.parsed()
    return options if forms_are_good else None


def _taken_words(catalog) -> str:
    if catalog.kind == "stage":
        return _("A stage with this name was just created.")
    return _("A policy with this name was just created.")


def _values(row, old_options: dict | None = None) -> dict:
    """What the audit log keeps of a row: one entry per option, so an edit shows only the
    options it changed. Secrets (a captcha's secret key) are named, never written down; given
    the options before an edit, a changed secret is named as changed."""
    values = {"name": row.name, "type": row.type}
    for key, value in (row.options or {}).items():
        changed = old_options is not None and old_options.get(key) != value
        values[f"options.{key}"] = _hidden(key, value, changed)
    return values


def _hidden(key: str, value, changed: bool = False):
    if "secret" not in key or not value:
        return value
    return _("(changed, hidden)") if changed else _("(set, hidden)")
