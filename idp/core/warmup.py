"""Work each worker would otherwise do on its first requests, done once by the preloading
gunicorn master before it forks (gunicorn.conf.py, when_ready): compiled templates, mapper
configuration and the language catalogs then sit in pages every worker shares, instead of a
private copy in each (bench/signin.py measures the memory per added worker)."""

from datetime import UTC, datetime

from flask_babel import get_translations
from sqlalchemy.orm import configure_mappers

from idp.core.i18n import SUPPORTED, format_moment

TEMPLATE_ENDINGS = (".html", ".txt", ".xml")


def warm_up(app) -> None:
    for name in app.jinja_env.list_templates(filter_func=_is_template):
        app.jinja_env.get_template(name)
    configure_mappers()
    for language in SUPPORTED:
        with app.test_request_context(headers={"Accept-Language": language}):
            get_translations()
            format_moment(datetime.now(UTC))  # loads the language's date formats


def _is_template(name: str) -> bool:
    return name.endswith(TEMPLATE_ENDINGS)
