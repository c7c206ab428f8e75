"""The brand's addresses: the accent's stylesheet and the uploaded logo and favicon, both
named by what they hold, so browsers keep them for good and a change needs no rebuild. And
what every template sees: `brand` (read only when a template uses it) and `|branded`."""

from flask import Blueprint, Response, abort, url_for
from werkzeug.local import LocalProxy

from idp.brand.colors import HEX_COLOR, theme_for
from idp.brand.files import FILE_HEADERS, stored_file
from idp.brand.settings import current_brand

bp = Blueprint("brand", __name__, url_prefix="/brand")

ANSWERS_WITHOUT_SESSION = ("brand.accent_stylesheet", "brand.file")
THEME_CSS = """:root {{
  --accent: {accent}; --accent-ink: {accent_ink}; --accent-text: {light_text};
}}
@media (prefers-color-scheme: dark) {{ :root {{ --accent-text: {dark_text}; }} }}
"""


@bp.get("/accent-<color>.css")
def accent_stylesheet(color: str):
    """The accent's colours, and the text colours that keep it readable in each theme."""
    accent = f"#{color.lower()}"
    if not HEX_COLOR.fullmatch(accent):
        abort(404)
    theme = theme_for(accent)
    response = Response(THEME_CSS.format(**vars(theme)), mimetype="text/css")
    response.headers["Cache-Control"] = FILE_HEADERS["Cache-Control"]
    return response


@bp.get("/files/<name>")
def file(name: str):
    stored = stored_file(name)
    if stored is None:
        abort(404)
    response = Response(stored.data, mimetype=stored.content_type)
    response.headers.update(FILE_HEADERS)
    return response


def accent_stylesheet_url() -> str:
    return url_for("brand.accent_stylesheet", color=current_brand().accent_color[1:])


def file_url(name: str) -> str:
    return url_for("brand.file", name=name)


@bp.app_context_processor
def brand_in_templates():
    return {
        "brand": LocalProxy(current_brand),
        "brand_theme": LocalProxy(lambda: theme_for(current_brand().accent_color)),
        "brand_file_url": file_url,
        "accent_stylesheet_url": accent_stylesheet_url,
    }


@bp.app_template_filter("branded")
def branded(text: str) -> str:
    return current_brand().branded(text)
