"""Views imported on their first request, Flask's "lazily loading views" pattern: the
OpenID Connect endpoints need authlib, joserfc and cryptography, 12 MiB of a worker's memory
that a site with no OpenID Connect application never uses (bench/signin.py); the admin's flow
Export and Import tabs need the flow file reader and YAML. Where a view is wanted, the
preloading gunicorn master imports it before it forks (idp/core/warmup.py), so that the workers
share those pages instead of each importing its own copy."""

from collections.abc import Callable, Iterable

from flask import Blueprint
from sqlalchemy.orm import Session
from werkzeug.utils import import_string

from idp.core.extensions import csrf


class LazyView:
    def __init__(self, import_name: str, wanted: Callable[[Session], bool] | None = None):
        """`wanted` tells, from the database, whether this site uses the view (an application
        of its provider type exists): the master then imports it before forking."""
        self.import_name = import_name
        self.wanted = wanted
        # What Flask-WTF's csrf.exempt and the logs know a view by: the real view's.
        self.__module__, self.__name__ = import_name.rsplit(".", 1)
        self._view = None

    def load(self):
        if self._view is None:
            self._view = import_string(self.import_name)
        return self._view

    def __call__(self, **kwargs):
        return self.load()(**kwargs)


def load_wanted_views(app, session: Session) -> None:
    """Import each lazy view of `app` whose `wanted` says so."""
    lazy = [view for view in app.view_functions.values() if isinstance(view, LazyView)]
    answers = {}
    for view in lazy:
        if view.wanted is not None and view.wanted not in answers:
            answers[view.wanted] = view.wanted(session)
        if answers.get(view.wanted):
            view.load()


def add_lazy_rules(
    blueprint: Blueprint,
    module: str,
    rules: Iterable[tuple[str, str, list[str]]],
    wanted: Callable[[Session], bool] | None = None,
    csrf_exempt: frozenset[str] = frozenset(),
) -> None:
    """Register each (URL, view name in `module`, methods) as a LazyView; the views named in
    `csrf_exempt` take posts from other sites or clients (Flask-WTF checks no token there)."""
    for url, name, methods in rules:
        view = LazyView(f"{module}.{name}", wanted=wanted)
        if name in csrf_exempt:
            view = csrf.exempt(view)
        blueprint.add_url_rule(url, endpoint=name, view_func=view, methods=methods)
