"""Views imported on their first request, Flask's "lazily loading views" pattern: the
OpenID Connect endpoints need authlib, joserfc and cryptography, 12 MiB of a worker's memory
that a site with no OpenID Connect application never uses (bench/signin.py). Where an
application does use them, the preloading gunicorn master imports them before it forks
(idp/core/warmup.py), so that the workers share those pages."""

from werkzeug.utils import import_string


class LazyView:
    def __init__(self, import_name: str):
        self.import_name = import_name
        # What Flask-WTF's csrf.exempt and the logs know a view by: the real view's.
        self.__module__, self.__name__ = import_name.rsplit(".", 1)
        self._view = None

    def load(self):
        if self._view is None:
            self._view = import_string(self.import_name)
        return self._view

    def __call__(self, **kwargs):
        return self.load()(**kwargs)
