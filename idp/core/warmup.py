"""Work each worker would otherwise do on its first requests, done once by the preloading
gunicorn master before it forks (idp/gunicorn_conf.py, when_ready): compiled templates, mapper
configuration, the language catalogs, the date and number formats (with only the CLDR data
they need, idp/core/cldr.py) and the lazily loaded views this site uses then sit in
pages every worker shares, instead of a private copy in each (bench/signin.py measures the
memory per added worker).

The admin's templates are left to their first use: a few administrators open those pages now
and then, and compiled before the fork all 70 of them held 2 MiB of every worker's memory (its
RSS), needed or not. A worker that serves an admin page compiles just that page's templates."""

from datetime import UTC, datetime

from flask_babel import get_translations
from sqlalchemy import create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, configure_mappers
from sqlalchemy.pool import NullPool

from idp.core.cldr import make_formatting_locales
from idp.core.i18n import SUPPORTED, format_moment
from idp.core.lazy_views import load_wanted_views

TEMPLATE_ENDINGS = (".html", ".txt", ".xml")
COMPILED_WHEN_USED = ("admin/",)
WANTED_VIEWS_CONNECT_TIMEOUT_S = 3


def warm_up(app) -> None:
    make_formatting_locales(SUPPORTED)  # first: see its docstring
    for name in app.jinja_env.list_templates(filter_func=_is_template):
        app.jinja_env.get_template(name)
    configure_mappers()
    for language in SUPPORTED:
        with app.test_request_context(headers={"Accept-Language": language}):
            get_translations()
            format_moment(datetime.now(UTC))  # makes its date and time pattern once
    load_views_in_use(app)


def load_views_in_use(app) -> None:
    """The lazily loaded views (idp/core/lazy_views.py) this site uses: the OpenID Connect
    endpoints, with authlib, joserfc and cryptography, only where an application uses them.

    Asked on a connection of its own, closed before the fork, that gives up after a few
    seconds: an unreachable database must not keep the master from starting workers (which
    then load the views with their first such request)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    quick = {"connect_timeout": WANTED_VIEWS_CONNECT_TIMEOUT_S}
    engine = create_engine(
        url, poolclass=NullPool, connect_args=quick if url.get_backend_name() != "sqlite" else {}
    )
    try:
        with Session(engine) as session:
            load_wanted_views(app, session)
    except SQLAlchemyError:
        pass  # no database, or none yet
    finally:
        engine.dispose()


def _is_template(name: str) -> bool:
    return name.endswith(TEMPLATE_ENDINGS) and not name.startswith(COMPILED_WHEN_USED)
