"""Create and bind stage: on the flow's Stage Bindings tab, a new stage (its type, then that
type's settings) and its binding to the flow in one form, saved in one transaction."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from idp.admin.catalog import rows
from idp.admin.catalog.stages import STAGES
from idp.admin.flows.bindings import (
    add_stage_binding,
    back_to,
    binding_guidance,
    starting_values,
)
from idp.admin.flows.forms import BindingSettingsForm
from idp.admin.flows.guidance import suggested_order
from idp.admin.flows.routes import flow_or_404


def create_and_bind_stage(slug: str):
    flow = flow_or_404(slug)
    return rows.choose_type(
        STAGES,
        "admin.flow_new_stage.create_and_bind_stage_of_type",
        template="admin/flows/new_stage_type.html",
        flow=flow,
    )


def create_and_bind_stage_of_type(slug: str, type_name: str):
    flow = flow_or_404(slug)
    binding_form = BindingSettingsForm(data=starting_values({"order": suggested_order(flow)}))
    new = rows.read_new(STAGES, type_name, binding_form)
    if new.options is None:
        return render_new_stage(flow, new, binding_form)
    stage = rows.add_row(STAGES, new)
    if stage is None:
        # A parallel request took the name; all was rolled back, the flow is read again.
        return render_new_stage(flow_or_404(slug), new, binding_form)
    binding = add_stage_binding(flow, stage, binding_form)
    if not rows.commit_new(STAGES, new):
        return render_new_stage(flow_or_404(slug), new, binding_form)
    flash(_("The stage %(name)s was created and bound.", name=stage.name), "info")
    return redirect(back_to(flow, binding), code=303)


def render_new_stage(flow, new: rows.NewRow, binding_form):
    page = render_template(
        "admin/flows/new_stage.html",
        flow=flow,
        row_type=new.row_type,
        form=new.form,
        options_form=new.options_form,
        binding_form=binding_form,
        cancel_url=url_for("admin.flow_bindings.flow_stages", slug=flow.slug),
        **binding_guidance(flow),
    )
    return page, rows.shown_status(new.options_form)
