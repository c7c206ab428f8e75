"""The admin interface at /admin/: superusers only (see blueprint.py). Each feature folder holds
its routes, forms and templates, with a Blueprint per route module nested under `admin`."""

from idp.admin import (
    applications,
    applications_bindings,
    applications_tokens,
    brand,
    dashboard,
    events,
    flows,
    flows_bindings,
    flows_insight,
    flows_new_stage,
    groups,
    invitations,
    policies,
    site_settings,
    stages,
    user_actions,
    users,
)
from idp.admin.blueprint import bp

__all__ = ["bp"]
