"""The admin Blueprint: superusers only, checked before every admin route."""

from flask import Blueprint, abort, current_app, redirect, request, url_for
from flask_login import current_user

from idp.admin.audit import detail_lines
from idp.admin.pagination import page_url

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

# The navigation, in order. A section shows only once its endpoint exists, so pages built
# later (flows, stages, policies) appear without touching this list.
NAVIGATION = (
    ("admin.dashboard.dashboard", "Dashboard"),
    ("admin.flows.flows", "Flows"),
    ("admin.stages.stages", "Stages"),
    ("admin.policies.policies", "Policies"),
    ("admin.applications.applications", "Applications"),
    ("admin.users.users", "Users"),
    ("admin.groups.groups", "Groups"),
    ("admin.invitations.invitations", "Invitations"),
    ("admin.events.events", "Events"),
    ("admin.settings.site_settings", "Settings"),
    ("admin.brand.brand", "Brand"),
)


@bp.before_request
def require_superuser():
    if not current_user.is_authenticated:
        return redirect(url_for("account.login", next=request.full_path.rstrip("?")))
    if not current_user.is_superuser:
        abort(403, description="Only administrators may open the admin pages.")
    return None


@bp.after_request
def keep_out_of_caches(response):
    # Admin pages show accounts, sessions and invitation links: no browser or proxy keeps them.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def navigation():
    links = [
        (url_for(endpoint), label)
        for endpoint, label in NAVIGATION
        if endpoint in current_app.view_functions
    ]
    return {
        "admin_navigation": links,
        "is_current_section": is_current_section,
        "page_url": page_url,
        "detail_lines": detail_lines,
    }


def is_current_section(url: str) -> bool:
    dashboard = url_for("admin.dashboard.dashboard")
    return request.path == url if url == dashboard else request.path.startswith(url)
