"""The app's own static files (stylesheet, htmx, scripts, icon) under addresses that name
their content: `url_for("static", filename=...)` adds `?v=<digest of the file>`. A request
with the current digest may be kept by browsers for a year without asking again, so a page
load costs no revalidation round trips (and the flow page's head script blocks nothing); an
upgrade changes the digest, so no browser keeps an old file. Other requests for a static file
are revalidated as before."""

import hashlib
import os

from flask import request

VERSION_ARGUMENT = "v"
FOR_A_YEAR = "public, max-age=31536000, immutable"


class Digests:
    """Each file's digest, read once per process (files change only with a new release)."""

    def __init__(self, folder: str):
        self.folder = folder
        self._known: dict[str, str | None] = {}

    def of(self, filename: str) -> str | None:
        if filename not in self._known:
            self._known[filename] = self._read(filename)
        return self._known[filename]

    def _read(self, filename: str) -> str | None:
        path = os.path.join(self.folder, filename)
        if not os.path.realpath(path).startswith(os.path.realpath(self.folder) + os.sep):
            return None
        try:
            with open(path, "rb") as file:
                return hashlib.sha256(file.read()).hexdigest()[:12]
        except OSError:
            return None


def init_app(app) -> None:
    digests = Digests(app.static_folder)

    @app.url_defaults
    def name_the_content(endpoint, values):
        if endpoint == "static" and VERSION_ARGUMENT not in values:
            digest = digests.of(values.get("filename", ""))
            if digest is not None:
                values[VERSION_ARGUMENT] = digest

    @app.after_request
    def keep_a_named_file(response):
        if request.endpoint == "static" and response.status_code in (200, 304):
            filename = (request.view_args or {}).get("filename", "")
            digest = digests.of(filename)
            if digest is not None and request.args.get(VERSION_ARGUMENT) == digest:
                response.headers["Cache-Control"] = FOR_A_YEAR
        return response
