"""Work each worker would otherwise do on its first requests, done once by the preloading
gunicorn master before it forks (gunicorn.conf.py, when_ready): compiled templates, mapper
configuration, the language catalogs and the lazily loaded views this site uses then sit in
pages every worker shares, instead of a private copy in each (bench/signin.py measures the
memory per added worker)."""

from datetime import UTC, datetime

from flask_babel import get_translations
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers

from idp.core.extensions import db
from idp.core.i18n import SUPPORTED, format_moment
from idp.core.lazy_views import load_wanted_views

TEMPLATE_ENDINGS = (".html", ".txt", ".xml")


def warm_up(app) -> None:
    for name in app.jinja_env.list_templates(filter_func=_is_template):
        app.jinja_env.get_template(name)
    configure_mappers()
    for language in SUPPORTED:
        with app.test_request_context(headers={"Accept-Language": language}):
            get_translations()
            format_moment(datetime.now(UTC))  # loads the language's date formats
    load_views_in_use(app)


def load_views_in_use(app) -> None:
    """The lazily loaded views (idp/core/lazy_views.py) this site uses: the OpenID Connect
    endpoints, with authlib, joserfc and cryptography, only where an application uses them."""
    with app.app_context():
        try:
            load_wanted_views(app)
        except SQLAlchemyError:
            pass  # no database yet: each worker loads them with its first such request
        finally:
            db.session.remove()


def _is_template(name: str) -> bool:
    return name.endswith(TEMPLATE_ENDINGS)
