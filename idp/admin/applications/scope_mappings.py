"""Scope mappings: admin-defined OpenID Connect scopes whose claims a sandboxed expression gives.
Listed with the applications that offer each; created, edited (the expression is checked on
saving) and deleted once no application offers it. Applications choose theirs in their
provider settings."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from idp.admin.audit import describe, record_change, record_deletion
from idp.admin.fields import strip
from idp.admin.helpers import INVALID, find_or_404, saved_unless_taken
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.core.i18n import translated
from idp.core.options import OptionsError
from idp.models import Application, Provider, ScopeMapping
from idp.policies.expression import compile_expression
from idp.providers.oauth2.options import scope_name_problem

NAME_TAKEN = _l("A scope mapping with this name was just created.")
EXPRESSION_HELP = (
    "A sandboxed expression, as in expression policies, giving the claims as a mapping, e.g. "
    '{"quota": user.attributes.get("quota", "1 GB")}. It sees user, application (slug, name) '
    "and scopes. If it fails, the token carries none of its claims."
)
FIELDS = ("name", "description", "expression")


class ScopeMappingForm(Form):
    name = StringField(
        _l("Scope"),
        description=_l("What an application asks for, e.g. nextcloud."),
        validators=[DataRequired(), Length(max=100)],
        filters=[strip],
    )
    description = StringField(
        _l("Description"),
        description=_l("Shown on the consent page: what the application receives."),
        validators=[Length(max=500)],
        filters=[strip],
    )
    expression = TextAreaField(
        _l("Expression"),
        description=EXPRESSION_HELP,
        validators=[DataRequired()],
        render_kw={"rows": 6},
    )

    def __init__(self, *args, editing: ScopeMapping | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing

    def validate_name(self, field):
        problem = translated(scope_name_problem(field.data))
        if problem:
            raise ValidationError(problem[0].upper() + problem[1:] + ".")
        found = db.session.scalar(select(ScopeMapping.id).where(ScopeMapping.name == field.data))
        if found is not None and (self.editing is None or found != self.editing.id):
            raise ValidationError(_("A scope mapping with this name exists already."))
        renamed = self.editing is not None and field.data != self.editing.name
        users = offered_by(self.editing.name) if renamed else []
        if users:
            raise ValidationError(
                _(
                    "It cannot be renamed while %(users)s offer it: their clients ask for it by "
                    "this name.",
                    users=", ".join(users),
                )
            )

    def validate_expression(self, field):
        try:
            compile_expression(field.data)
        except OptionsError as error:
            raise ValidationError(
                _("The expression %(message)s.", message=error.in_words())
            ) from None


def offered_by(name: str) -> list[str]:
    """The slugs of the applications that offer this scope mapping."""
    rows = db.session.execute(
        select(Application.slug, Provider.options)
        .join(Provider, Provider.application_id == Application.id)
        .where(Provider.type == "oauth2")
        .order_by(Application.slug)
    )
    return [slug for slug, options in rows if name in ((options or {}).get("scope_mappings") or ())]


def _target(mapping: ScopeMapping) -> dict:
    return describe("scope_mapping", mapping, mapping.name)


def _values(mapping: ScopeMapping) -> dict:
    return {name: getattr(mapping, name) for name in FIELDS}


def scope_mappings():
    mappings = list(db.session.scalars(select(ScopeMapping).order_by(ScopeMapping.name)))
    offering = {mapping.name: offered_by(mapping.name) for mapping in mappings}
    return render_template("admin/scope_mappings/list.html", mappings=mappings, offering=offering)


def new_scope_mapping():
    form = ScopeMappingForm()
    if form.validate_on_submit():
        mapping = ScopeMapping()
        form.populate_obj(mapping)
        with saved_unless_taken(form.name, NAME_TAKEN) as done:
            db.session.add(mapping)
            db.session.flush()
            record_change("admin_scope_mapping_created", _target(mapping), after=_values(mapping))
        if done.saved:
            flash(_("The scope mapping %(name)s was created.", name=mapping.name), "info")
            return redirect(url_for("admin.scope_mappings.scope_mappings"), code=303)
    status = INVALID if form.is_submitted() else 200
    return render_template("admin/scope_mappings/form.html", form=form, mapping=None), status


def edit_scope_mapping(mapping_id: int):
    mapping = find_or_404(ScopeMapping, mapping_id, _("scope mapping"))
    form = ScopeMappingForm(obj=mapping, editing=mapping)
    if form.validate_on_submit():
        before = _values(mapping)
        with saved_unless_taken(form.name, NAME_TAKEN) as done:
            form.populate_obj(mapping)
            record_change("admin_scope_mapping_edited", _target(mapping), before, _values(mapping))
        if done.saved:
            flash(_("The scope mapping was saved."), "info")
            return redirect(url_for("admin.scope_mappings.scope_mappings"), code=303)
    status = INVALID if form.is_submitted() else 200
    page = render_template(
        "admin/scope_mappings/form.html",
        form=form,
        mapping=mapping,
        offering=offered_by(mapping.name),
    )
    return page, status


def confirm_scope_mapping_deletion(mapping_id: int):
    mapping = find_or_404(ScopeMapping, mapping_id, _("scope mapping"))
    return render_template(
        "admin/scope_mappings/delete.html",
        mapping=mapping,
        offering=offered_by(mapping.name),
        form=Form(),
    )


def delete_scope_mapping(mapping_id: int):
    """A scope mapping an application offers is not deleted: its clients ask for it."""
    mapping = find_or_404(ScopeMapping, mapping_id, _("scope mapping"))
    offering = offered_by(mapping.name)
    if offering:
        page = render_template(
            "admin/scope_mappings/delete.html",
            mapping=mapping,
            offering=offering,
            form=Form(),
        )
        return page, 409
    name, target, before = mapping.name, _target(mapping), _values(mapping)
    deleted = db.session.execute(delete(ScopeMapping).where(ScopeMapping.id == mapping.id)).rowcount
    record_deletion("admin_scope_mapping_deleted", target, before, deleted)
    db.session.commit()
    flash(_("The scope mapping %(name)s was deleted.", name=name), "info")
    return redirect(url_for("admin.scope_mappings.scope_mappings"), code=303)
