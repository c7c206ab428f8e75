"""The admin interface at /admin/: superusers only (see blueprint.py). Each feature folder holds
its routes, forms and templates; urls.py maps the URLs of each route module, a Blueprint nested
under `admin`, to its views, imported on their first request."""

from idp.admin.blueprint import bp

__all__ = ["bp"]
