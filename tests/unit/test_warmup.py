"""The preloading gunicorn master warms the app before its first fork (idp/gunicorn_conf.py,
idp/core/warmup.py): afterwards no template but the admin's is read or compiled again, and
every language's catalog is loaded, and the OpenID Connect endpoints where an application uses
them, so the workers share them instead of each making its own."""

import runpy
import socket
import threading
from types import SimpleNamespace

from flask import render_template
from flask_babel import get_babel

from idp.core import warmup
from idp.core.i18n import SUPPORTED
from idp.core.lazy_views import LazyView
from idp.core.warmup import warm_up


def no_template_read_again(app, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("a template was read after the warm-up")

    monkeypatch.setattr(app.jinja_env.loader, "get_source", refuse)


def loaded_catalogs(app) -> set[str]:
    with app.app_context():
        return {locale for locale, _domain in get_babel().instance.domain_instance.cache}


def test_after_the_warm_up_pages_render_without_reading_a_template(app, monkeypatch):
    warm_up(app)
    no_template_read_again(app, monkeypatch)
    with app.test_request_context(headers={"Accept-Language": "de"}):
        page = render_template("errors/error.html", code=404, message="Nicht da")
    assert "Nicht da" in page


def test_the_warm_up_leaves_the_admins_templates_to_their_first_use(app):
    warm_up(app)
    cached = {name for (_loader, name) in app.jinja_env.cache}
    assert "base.html" in cached
    assert not {name for name in cached if name.startswith("admin/")}
    with app.test_request_context():
        app.jinja_env.get_template("admin/flows/list.html")  # compiled when first asked for


def test_the_warm_up_loads_every_languages_catalog(app):
    warm_up(app)
    assert set(SUPPORTED) <= loaded_catalogs(app)


def test_the_warm_up_loads_the_oidc_endpoints_once_an_application_uses_them(
    app, runner, monkeypatch
):
    views = [
        view
        for endpoint, view in app.view_functions.items()
        if endpoint.startswith("provider_oauth2.")
    ]
    assert views and all(isinstance(view, LazyView) for view in views)
    for view in views:  # the views are the module's: another test may have loaded them
        monkeypatch.setattr(view, "_view", None)
    warm_up(app)
    assert all(view._view is None for view in views)
    result = runner.invoke(
        args=["apps", "create", "grafana", "--name", "Grafana", "--oidc",
              "--redirect-uri", "https://grafana.example.test/login/generic_oauth"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    warm_up(app)
    assert all(view._view is not None for view in views)


class PreloadingMaster:
    """What gunicorn's arbiter hands the config's hooks: its settings and the app it
    preloaded."""

    def __init__(self, app):
        self.app = self
        self.cfg = SimpleNamespace(preload_app=True)
        self._wsgi = app

    def wsgi(self):
        return self._wsgi


def test_gunicorn_warms_the_preloaded_app_when_ready(app, monkeypatch, tmp_path):
    # Given a metrics folder, the settings file makes none of its own in this process.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    settings = runpy.run_module("idp.gunicorn_conf")
    settings["when_ready"](PreloadingMaster(app))
    assert set(SUPPORTED) <= loaded_catalogs(app)
    no_template_read_again(app, monkeypatch)
    with app.test_request_context():
        render_template("base.html")


def test_a_database_that_never_answers_holds_the_warm_up_only_seconds(app, monkeypatch):
    """The master asks the database before it forks; a server that takes the connection and
    never answers must not keep it from starting workers."""
    monkeypatch.setattr(warmup, "WANTED_VIEWS_CONNECT_TIMEOUT_S", 2)  # libpq's least
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # the kernel accepts; nothing ever replies
        port = silent.getsockname()[1]
        monkeypatch.setitem(
            app.config,
            "SQLALCHEMY_DATABASE_URI",
            f"postgresql+psycopg://gatehouse@127.0.0.1:{port}/gatehouse",
        )
        asking = threading.Thread(target=warmup.load_views_in_use, args=(app,), daemon=True)
        asking.start()
        asking.join(timeout=30)
    assert not asking.is_alive()
