"""The admin Blueprint: superusers only, checked before every admin route."""

from flask import Blueprint, abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from idp.admin.audit import detail_lines
from idp.admin.pagination import page_url
from idp.admin.urls import SECTIONS
from idp.core.http import to_sign_in
from idp.core.i18n import lazy_text as _l
from idp.core.lazy_views import add_lazy_rules
from idp.core.words import counted, noun

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
bp.add_app_template_filter(counted, "counted")
bp.add_app_template_filter(noun, "noun")

for section in SECTIONS:
    section_bp = Blueprint(section.name, section.package, template_folder="templates")
    for module, rules in section.views.items():
        add_lazy_rules(section_bp, f"{section.package}.{module}", rules)
    bp.register_blueprint(section_bp)


def _to(endpoint: str):
    def send_on():
        query = request.query_string.decode()
        return redirect(url_for(endpoint) + (f"?{query}" if query else ""), 308)

    return send_on


# DESIGN.md names the admin's pages with a trailing slash (/admin/applications/): each section's
# list page (/admin/applications, /admin/flows, ...) sends that spelling on to itself.
for section in SECTIONS:
    for rules in section.views.values():
        for url, name, methods in rules:
            if url.count("/") == 1 and len(url) > 1 and "<" not in url and "GET" in methods:
                target = f"admin.{section.name}.{name}"
                bp.add_url_rule(url + "/", f"{section.name}_{name}_slash", _to(target))

# The navigation, in order.
NAVIGATION = (
    ("admin.dashboard.dashboard", _l("Dashboard")),
    ("admin.flows.flows", _l("Flows")),
    ("admin.stages.stages", _l("Stages")),
    ("admin.policies.policies", _l("Policies")),
    ("admin.applications.applications", _l("Applications")),
    ("admin.scope_mappings.scope_mappings", _l("Scope mappings")),
    ("admin.users.users", _l("Users")),
    ("admin.groups.groups", _l("Groups")),
    ("admin.invitations.invitations", _l("Invitations")),
    ("admin.events.events", _l("Events")),
    ("admin.settings.site_settings", _l("Settings")),
    ("admin.brand.brand", _l("Brand")),
)


@bp.before_request
def require_superuser():
    if not current_user.is_authenticated:
        return to_sign_in()
    if not current_user.is_superuser:
        abort(403, description=_("Only administrators may open the admin pages."))
    return None


@bp.after_request
def keep_out_of_caches(response):
    # Admin pages show accounts, sessions and invitation links: no browser or proxy keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def navigation():
    links = [(url_for(endpoint), label) for endpoint, label in NAVIGATION]
    return {
        "admin_navigation": links,
        "is_current_section": is_current_section,
        "page_url": page_url,
        "detail_lines": detail_lines,
    }


def is_current_section(url: str) -> bool:
    dashboard = url_for("admin.dashboard.dashboard")
    return request.path == url if url == dashboard else request.path.startswith(url)
