"""Views imported on their first request, Flask's "lazily loading views" pattern: the
OpenID Connect endpoints need authlib, joserfc and cryptography, 12 MiB of a worker's memory
that a site with no OpenID Connect application never uses (bench/signin.py); the admin's flow
Export and Import tabs need the flow file reader and YAML. Where a view is wanted, the
preloading gunicorn master imports it before it forks (idp/core/warmup.py), so that the workers
share those pages instead of each importing its own copy."""

from collections.abc import Callable

from sqlalchemy.orm import Session
from werkzeug.utils import import_string


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
