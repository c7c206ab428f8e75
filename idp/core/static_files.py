"""The app's own static files (stylesheet, htmx, scripts, icon) under addresses that name
their content: `url_for("static", filename=...)` adds `?v=<digest of the file>`. A request
with the current digest may be kept by browsers for a year without asking again, so a page
load costs no revalidation round trips (and the flow page's head script blocks nothing); an
upgrade changes the digest, so no browser keeps an old file.

The digests are read once, when the app is made (by the preloading master, shared with its
workers). A file replaced on disk while the process runs is never marked to be kept: its
size or time no longer match. A request naming another digest (a page from another release
of a rolling deploy) is answered but not stored, so the old bytes never settle under the new
address. Requests without a digest are revalidated as before."""

import hashlib
import os
import posixpath

from flask import current_app, request, url_for

VERSION_ARGUMENT = "v"
FOR_A_YEAR = "public, max-age=31536000, immutable"
NOT_STORED = "no-store"


class Digests:
    """Each file's digest, with the size and time it had when it was read."""

    def __init__(self, folder: str):
        self.folder = folder
        self._known: dict[str, tuple[str, int, int]] = {}
        for root, _folders, files in os.walk(folder):
            for name in files:
                path = os.path.join(root, name)
                self._known[os.path.relpath(path, folder).replace(os.sep, "/")] = _read(path)

    def of(self, filename: str) -> str | None:
        known = self._known.get(posixpath.normpath(filename))
        return known[0] if known else None

    def unchanged(self, filename: str) -> bool:
        """The file on disk is still the one whose digest was read."""
        name = posixpath.normpath(filename)
        known = self._known.get(name)
        if known is None:
            return False
        try:
            status = os.stat(os.path.join(self.folder, name))
        except OSError:
            return False
        return (status.st_size, status.st_mtime_ns) == known[1:]


def _read(path: str) -> tuple[str, int, int]:
    with open(path, "rb") as file:
        digest = hashlib.sha256(file.read()).hexdigest()[:12]
    status = os.stat(path)
    return digest, status.st_size, status.st_mtime_ns


STATIC_URLS_KEY = "gatehouse.static_urls"  # in app.extensions: {(script root, name): url}


def static_url(filename: str) -> str:
    """url_for("static", filename=...), made once per script root: a file's address changes
    only with the digests, read when the app is made, and every page asks for five."""
    known = current_app.extensions[STATIC_URLS_KEY]
    key = (request.script_root, filename)
    url = known.get(key)
    if url is None:
        url = known[key] = url_for("static", filename=filename)
    return url


def init_app(app) -> None:
    digests = Digests(app.static_folder)
    app.extensions[STATIC_URLS_KEY] = {}
    app.jinja_env.globals["static_url"] = static_url

    @app.url_defaults
    def name_the_content(endpoint, values):
        if endpoint == "static" and VERSION_ARGUMENT not in values:
            digest = digests.of(values.get("filename", ""))
            if digest is not None:
                values[VERSION_ARGUMENT] = digest

    @app.after_request
    def keep_a_named_file(response):
        if request.endpoint != "static":
            return response
        asked = request.args.get(VERSION_ARGUMENT)
        if asked is None:
            return response
        filename = (request.view_args or {}).get("filename", "")
        current = asked == digests.of(filename) and digests.unchanged(filename)
        if current and response.status_code in (200, 304):
            response.headers["Cache-Control"] = FOR_A_YEAR
        else:
            response.headers["Cache-Control"] = NOT_STORED
        return response
