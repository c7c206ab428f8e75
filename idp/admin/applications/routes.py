"""Applications: listed with who may use each in words; created in two steps (the provider
type, then the application with that type's settings); edited; deleted after a confirmation."""

from flask import (
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from idp.admin.applications.forms import ApplicationForm
from idp.admin.audit import describe, record_change, record_deletion
from idp.admin.helpers import INVALID, Outcome, saved_unless_taken
from idp.applications.access import who_may_use
from idp.applications.addresses import base_url
from idp.applications.loading import load_application, load_applications
from idp.applications.manage import address_taken, delete_application
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.core.i18n import translated
from idp.core.options import OptionsError
from idp.models import Application, Provider
from idp.providers.registry import PROVIDER_TYPES

SLUG_TAKEN = _l("An application with this slug was just created.")
APPLICATION_FIELDS = ("name", "slug", "launch_url", "description", "icon", "policy_engine_mode")


def application_target(application: Application) -> dict:
    return describe("application", application, application.slug)


def application_or_404(slug: str) -> Application:
    application = load_application(slug)
    if application is None:
        abort(404, description=_("There is no such application."))
    return application


def provider_facts(application: Application) -> dict:
    provider = application.provider
    provider_type = PROVIDER_TYPES.get(provider.type) if provider else None
    if provider_type is None:
        return {}
    try:
        options = provider_type.parse_options(provider.options)
    except OptionsError:
        return {}
    return provider_type.facts(application, provider, options, base_url())


def _values(application: Application) -> dict:
    values = {name: getattr(application, name) for name in APPLICATION_FIELDS}
    provider = application.provider
    if provider is not None:
        values["provider"] = provider.type
        for key, value in (provider.options or {}).items():
            values[f"options.{key}"] = value
    return values


def applications():
    return render_template(
        "admin/applications/list.html",
        applications=load_applications(),
        who_may_use=who_may_use,
        types=PROVIDER_TYPES,
    )


def new_application():
    types = sorted(PROVIDER_TYPES.values(), key=lambda provider_type: provider_type.label.lower())
    return render_template("admin/applications/choose.html", types=types)


def _options_form(provider_type, stored: dict):
    form_class = provider_type.options_form
    return form_class(stored=stored) if request.method == "POST" else form_class.prefilled(stored)


def new_application_of_type(type_name: str):
    provider_type = PROVIDER_TYPES.get(type_name)
    if provider_type is None:
        abort(
            404,
            description=_(
                "The provider type %(type_name)s is not installed.", type_name=repr(type_name)
            ),
        )
    form = ApplicationForm()
    options_form = _options_form(provider_type, {})
    if request.method == "POST":
        good = form.validate_on_submit()
        options = options_form.parsed()
        if good and options is not None and _address_is_free(provider_type, options_form, options):
            created = _create(provider_type, form, options)
            if created is not None:
                return created
    status = INVALID if form.is_submitted() else 200
    page = render_template(
        "admin/applications/new.html",
        provider_type=provider_type,
        form=form,
        options_form=options_form,
    )
    return page, status


def _address_is_free(provider_type, options_form, options: dict, slug: str = "") -> bool:
    """False, with the reason beside the settings, when another application than `slug`
    claims the address the submitted settings claim."""
    taken = address_taken(provider_type, provider_type.parse_options(options), slug)
    if taken is not None:
        options_form.form_errors = [*options_form.form_errors, translated(taken)]
    return taken is None


def _create(provider_type, form: ApplicationForm, options: dict):
    """The answer once the application is made; None, with the message at the slug, when a
    parallel request took the slug first, or at a flow another administrator deleted."""
    if not form.chosen_flows_still_there():
        return None
    application = Application(policy_bindings=[])
    for name in APPLICATION_FIELDS:
        setattr(application, name, form[name].data or "")
    provider = Provider(type=provider_type.name, options=options, **form.flow_ids())
    application.provider = provider
    with saved_unless_taken(form.slug, SLUG_TAKEN) as done:
        db.session.add(application)
        parsed = provider_type.parse_options(options)
        secrets = provider_type.provision(provider, parsed)
        provider_type.ready_to_serve(parsed)
        db.session.flush()
        target = application_target(application)
        record_change("admin_application_created", target, after=_values(application))
    if not done.saved:
        return None
    flash(_("The application %(name)s was created.", name=application.name), "info")
    if not secrets:
        return redirect(url_for("admin.applications.application", slug=application.slug), code=303)
    # The secret is shown on this answer alone: it is stored only as a hash.
    return _render_overview(load_application(application.slug), secrets=secrets)


def _render_overview(application: Application, status: int = 200, **extra):
    body = render_template(
        "admin/applications/overview.html",
        application=application,
        provider_type=PROVIDER_TYPES.get(application.provider.type)
        if application.provider
        else None,
        facts=provider_facts(application),
        who=who_may_use(application),
        form=Form(),
        **extra,
    )
    return make_response(body, status)


def application(slug: str):
    return _render_overview(application_or_404(slug))


def edit_application(slug: str):
    application = application_or_404(slug)
    provider = application.provider
    provider_type = PROVIDER_TYPES.get(provider.type) if provider else None
    starting = {name: getattr(application, name) for name in APPLICATION_FIELDS}
    if provider is not None:
        starting.update(
            authorization_flow=str(provider.authorization_flow_id),
            authentication_flow=str(provider.authentication_flow_id or ""),
            invalidation_flow=str(provider.invalidation_flow_id or ""),
        )
    form = ApplicationForm(data=None if request.method == "POST" else starting, editing=application)
    options_form = (
        _options_form(provider_type, provider.options) if provider_type is not None else None
    )
    if request.method == "POST":
        good = form.validate_on_submit()
        options = options_form.parsed() if options_form is not None else None
        if options is not None and not _address_is_free(
            provider_type, options_form, options, application.slug
        ):
            options = None
        if good and (options is not None or provider_type is None):
            saved = _save(application, provider_type, form, options)
            if saved.saved:
                flash(_("The application was saved."), "info")
                return redirect(
                    url_for("admin.applications.application", slug=application.slug), code=303
                )
    page = render_template(
        "admin/applications/edit.html",
        application=application,
        provider_type=provider_type,
        form=form,
        options_form=options_form,
    )
    return page, INVALID if form.is_submitted() else 200


def _save(application: Application, provider_type, form: ApplicationForm, options: dict | None):
    before = _values(application)
    provider = application.provider
    if provider is not None and not form.chosen_flows_still_there():
        return Outcome()
    with saved_unless_taken(form.slug, SLUG_TAKEN) as done:
        for name in APPLICATION_FIELDS:
            setattr(application, name, form[name].data or "")
        if provider is not None:
            for name, value in form.flow_ids().items():
                setattr(provider, name, value)
            if options is not None:
                provider.options = options
                provider_type.ready_to_serve(provider_type.parse_options(options))
        target = application_target(application)
        record_change("admin_application_edited", target, before, _values(application))
    return done


def confirm_application_deletion(slug: str):
    application = application_or_404(slug)
    return render_template("admin/applications/delete.html", application=application, form=Form())


def delete_application_route(slug: str):
    application = application_or_404(slug)
    name, target, before = application.name, application_target(application), _values(application)
    deleted = delete_application(application)
    record_deletion("admin_application_deleted", target, before, deleted)
    db.session.commit()
    flash(_("The application %(name)s was deleted.", name=name), "info")
    return redirect(url_for("admin.applications.applications"), code=303)
