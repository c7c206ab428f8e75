"""Work each worker would otherwise do on its first requests, done once by the preloading
gunicorn master before it forks (gunicorn.conf.py, when_ready): compiled templates, mapper
configuration, the language catalogs and the views of provider types in use then sit in pages
every worker shares, instead of a private copy in each (bench/signin.py measures the memory per
added worker)."""

from datetime import UTC, datetime

from flask_babel import get_translations
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers

from idp.core.extensions import db
from idp.core.i18n import SUPPORTED, format_moment
from idp.core.lazy_views import LazyView
from idp.models import Provider
from idp.providers.registry import PROVIDER_TYPES

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
    """The lazily loaded views (idp/core/lazy_views.py) of every provider type an application
    uses: the OpenID Connect endpoints, with authlib, joserfc and cryptography, only on a site
    with an OpenID Connect application."""
    with app.app_context():
        try:
            types_in_use = set(db.session.scalars(select(Provider.type).distinct()))
        except SQLAlchemyError:
            return  # no database yet: each worker loads them with its first such request
        finally:
            db.session.remove()
    blueprints = {
        PROVIDER_TYPES[name].blueprint.name
        for name in types_in_use
        if name in PROVIDER_TYPES and PROVIDER_TYPES[name].blueprint is not None
    }
    for endpoint, view in app.view_functions.items():
        if isinstance(view, LazyView) and endpoint.partition(".")[0] in blueprints:
            view.load()


def _is_template(name: str) -> bool:
    return name.endswith(TEMPLATE_ENDINGS)
