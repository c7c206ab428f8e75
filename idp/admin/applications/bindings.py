"""An application's policy, group and user bindings (who may use it), edited through the same
dialog as a flow's."""

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from idp.admin.applications.routes import application_or_404, application_target
from idp.admin.audit import record_change, record_deletion
from idp.admin.confirm import Confirmation, ask
from idp.admin.flows.bindings import (
    TABS,
    bound_in_words,
    copy_policy_binding,
    current_tab,
    dialog_done,
    find_subject,
    policy_binding_consequences,
    policy_binding_values,
    set_subject,
    starting_values,
    subject_choices,
    subject_data,
    subject_in_words,
    words_for_subject,
)
from idp.admin.flows.forms import PolicyBindingForm
from idp.admin.helpers import INVALID
from idp.applications.access import who_may_use
from idp.core.extensions import db
from idp.core.forms import Form
from idp.flows.executor import is_htmx
from idp.identity.deletion import delete_where
from idp.models import Application, PolicyBinding


def binding_of(application: Application, binding_id: int) -> PolicyBinding:
    for binding in application.policy_bindings:
        if binding.id == binding_id:
            return binding
    abort(404, description=_("This application has no such binding."))


def _dialog(application: Application, binding: PolicyBinding | None = None) -> dict:
    return {
        "id": f"application-{application.id}",
        "new_url": url_for(
            "admin.application_bindings.new_application_binding", slug=application.slug
        ),
        "edit_url": url_for(
            "admin.application_bindings.edit_application_binding",
            slug=application.slug,
            binding_id=binding.id,
        )
        if binding
        else "",
        "back": url_for("admin.application_bindings.application_bindings", slug=application.slug),
        "for_words": _("For who may use the application %(name)s.", name=application.name),
    }


def application_bindings(slug: str):
    application = application_or_404(slug)
    return render_template(
        "admin/applications/bindings.html",
        application=application,
        who=who_may_use(application),
        form=Form(),
        bound_in_words=bound_in_words,
    )


def _render_dialog(application, form, binding=None, status=200):
    subject_choices(form)
    in_place = is_htmx()
    template = "_binding_dialog.html" if in_place else "binding.html"
    page = render_template(
        f"admin/applications/{template}",
        application=application,
        form=form,
        binding=binding,
        tab=current_tab(),
        tabs=TABS,
        dialog=_dialog(application, binding),
    )
    return page, 200 if in_place else status, {"Vary": "HX-Request"}


def new_application_binding(slug: str):
    application = application_or_404(slug)
    form = PolicyBindingForm()
    if not form.validate_on_submit():
        return _render_dialog(application, form, status=INVALID if form.is_submitted() else 200)
    subject = find_subject(form)
    if subject is None:
        return _render_dialog(application, form, status=INVALID)
    binding = PolicyBinding()
    set_subject(binding, subject)
    copy_policy_binding(form, binding)
    application.policy_bindings.append(binding)
    db.session.flush()
    values = policy_binding_values(binding)
    record_change("admin_application_bound", application_target(application), after=values)
    db.session.commit()
    flash(_("The %(subject)s was bound.", subject=words_for_subject(values["subject"])), "info")
    return dialog_done(url_for("admin.application_bindings.application_bindings", slug=slug))


def edit_application_binding(slug: str, binding_id: int):
    application = application_or_404(slug)
    binding = binding_of(application, binding_id)
    form = PolicyBindingForm(data=starting_values(subject_data(binding)))
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return _render_dialog(application, form, binding, status)
    subject = find_subject(form)
    if subject is None:
        return _render_dialog(application, form, binding, INVALID)
    before = policy_binding_values(binding)
    set_subject(binding, subject)
    copy_policy_binding(form, binding)
    record_change(
        "admin_application_binding_changed",
        application_target(application),
        before,
        policy_binding_values(binding),
    )
    db.session.commit()
    flash(_("The binding was saved."), "info")
    return dialog_done(url_for("admin.application_bindings.application_bindings", slug=slug))


def confirm_application_binding_deletion(slug: str, binding_id: int):
    application = application_or_404(slug)
    binding = binding_of(application, binding_id)
    where = _("who may use the application %(name)s", name=application.name)
    confirmation = Confirmation(
        title=_("Remove the binding of %(subject)s?", subject=subject_in_words(binding)),
        consequences=policy_binding_consequences(
            binding,
            application.policy_bindings,
            where,
            _("every signed-in user may use the application"),
        ),
        action=url_for(
            "admin.application_bindings.delete_application_binding",
            slug=slug,
            binding_id=binding_id,
        ),
        button=_("Remove the binding"),
        cancel=url_for("admin.application_bindings.application_bindings", slug=slug),
    )
    return ask("admin/applications/confirm_removal.html", confirmation, application=application)


def delete_application_binding(slug: str, binding_id: int):
    application = application_or_404(slug)
    binding = binding_of(application, binding_id)
    values = policy_binding_values(binding)
    subject = subject_in_words(binding)
    deleted = delete_where(PolicyBinding.__table__, PolicyBinding.id == binding.id)
    target = application_target(application)
    record_deletion("admin_application_unbound", target, values, deleted)
    db.session.commit()
    flash(_("The %(subject)s binding was removed.", subject=subject), "info")
    return redirect(url_for("admin.application_bindings.application_bindings", slug=slug), code=303)
