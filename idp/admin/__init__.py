"""The admin interface at /admin/: superusers only (see blueprint.py). Each feature folder holds
its routes, forms and templates, with a Blueprint per route module nested under `admin`."""

from idp.admin.blueprint import bp

__all__ = ["bp"]
