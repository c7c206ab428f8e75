"""The admin interface at /admin/: superusers only (see blueprint.py). Each module holds the
routes of one concept and registers them on the one Blueprint, `bp`."""

from idp.admin import (  # noqa: F401  (importing a module registers its routes)
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
