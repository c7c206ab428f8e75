"""Languages: Flask-Babel, the locale each request is answered in, and dates in its words.

The locale is the signed-in user's own choice (`users.language`, set on /me), else the best
match of the browser's Accept-Language, else English. The user is the one already loaded with
the session (security.py), so choosing costs no query; catalogs are read once per worker.
"""

import contextlib
import functools
from datetime import UTC, datetime

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import g, has_request_context, request
from flask_babel import Babel, force_locale, get_locale, get_translations, gettext
from flask_babel.speaklater import LazyString
from markupsafe import escape

from idp.core.cldr import formatting_locale

DEFAULT_LOCALE = "en"
# The languages with complete catalogs under idp/translations, in the order /me offers them.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français"}
SUPPORTED = tuple(LANGUAGE_NAMES)

babel = Babel()


class LazyText(LazyString):
    """A translation looked up when it is shown, escaped like any other text. Flask-Babel's
    own lazy strings pass into a page as markup, so a "<slug>" in a help text would vanish."""

    def __html__(self):
        return escape(str(self))


def lazy_text(string: str, **variables) -> LazyText:
    """lazy_gettext for forms and tables built at import: `from idp.core.i18n import
    lazy_text as _l` (make translations extracts _l)."""
    return LazyText(gettext, string, **variables)


def N_(text: str) -> str:
    """Marks an English constant for `make translations`; it is translated where it is shown
    (`translated`), in the language of the request that shows it."""
    return text


class Sentence(str):
    """English text that remembers how it was made: a template marked N_ and its values, kept
    apart (as OptionsError does). It is the English wherever a str goes (logs, events, the
    API, the CLI, comparisons); `translated` says it in the request's language. A value that
    is itself a Sentence is translated too; other values (names, numbers, another program's
    own words) stay as they are. A template not in the catalogs stays English."""

    template: str
    values: dict

    def __new__(cls, template: str, **values):
        sentence = super().__new__(cls, template % values if values else template)
        sentence.template = template
        sentence.values = values
        return sentence

    def __reduce__(self):
        return (_sentence, (self.template, self.values))

    def in_words(self) -> str:
        if isinstance(self.template, Sentence):
            return self.template.in_words()
        text = gettext(self.template)
        if not self.values:
            return text
        said = {
            name: value.in_words() if isinstance(value, Sentence) else value
            for name, value in self.values.items()
        }
        return text % said


def _sentence(template, values):
    return Sentence(template, **values)


def placed(place: str, message: str) -> str:
    """A problem named by its place ("flow.slug: is required"), still translatable."""
    return Sentence("%(place)s: %(message)s", place=place, message=message)


def chosen_language(user) -> str | None:
    """The user's stored choice, if it is still one this server speaks."""
    language = getattr(user, "language", None)
    return language if language in LANGUAGE_NAMES else None


@contextlib.contextmanager
def in_language_of(user):
    """Words for a mail to `user`: in the language they chose on /me, on whatever browser
    the mail was asked for (someone recovering an account, an administrator); else in the
    request's."""
    language = chosen_language(user)
    if language is None:
        yield
        return
    with force_locale(language):
        yield


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT_LOCALE
    # Flask-Login's per-request user, as load_current_session left it: reading it here never
    # looks the session up (an answer without one, such as a stylesheet, stays without one).
    stored = chosen_language(g.get("_login_user"))
    if stored:
        return stored
    return request.accept_languages.best_match(SUPPORTED) or DEFAULT_LOCALE


def format_moment(value) -> str:
    """A date and time (UTC) as the locale writes it, to the minute: "Dec 3, 2026, 4:38 PM",
    "03.12.2026, 16:38"."""
    if value is None:
        return ""
    locale = _formatting_locale()
    return format_datetime(value, _moment_pattern(str(locale)), tzinfo=UTC, locale=locale)


@functools.cache
def _moment_pattern(name: str) -> str:
    """The locale's medium date and short time, in its own order ("{1}, {0}"), as one
    pattern: formatted in one pass, a fifth of the time of a date and a time put together."""
    locale = formatting_locale(name)
    return (
        locale.datetime_formats["medium"]
        .replace("{1}", locale.date_formats["medium"].pattern)
        .replace("{0}", locale.time_formats["short"].pattern)
    )


def format_count(number: int) -> str:
    """A count with the locale's grouping ("1,234", "1.234"); English outside a request."""
    return format_decimal(number, locale=_formatting_locale())


def format_day(value) -> str:
    """A date as the locale writes it: "Dec 3, 2026", "03.12.2026". A date and time counts
    by its day in UTC."""
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(UTC)
    return format_date(value, "medium", locale=_formatting_locale())


def _formatting_locale():
    """The request's locale, with just the data dates and numbers need (idp/core/cldr.py);
    English outside a request."""
    return formatting_locale(str(get_locale() or DEFAULT_LOCALE))


def translated(text):
    """A message in the request's language, if the catalogs have it: the shipped texts stored
    with a flow (titles, button labels, idp/core/shipped_texts.py) and the messages modules
    keep as English constants marked N_(...). An administrator's own words have no entry and
    stay as they were written. A Sentence is said with its values (Sentence.in_words)."""
    if isinstance(text, Sentence):
        return text.in_words()
    if not text or not isinstance(text, str):
        return text
    return gettext(text)


def html_language() -> str:
    return str(get_locale() or DEFAULT_LOCALE)


def request_translations():
    """The request's catalog, found once per request. Flask-Babel's own template functions
    find it again at every call (nine reads of `g` through its proxy, 117 times for /me); it
    is kept where Flask-Babel keeps a request's translations, which refresh() and
    force_locale() clear."""
    context = g.get("_flask_babel")
    translations = getattr(context, "babel_translations", None)
    if translations is None:
        translations = get_translations()
        g._flask_babel.babel_translations = translations  # get_translations made the context
    return translations


def init_app(app) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.install_gettext_callables(
        gettext=lambda text: request_translations().ugettext(text),
        ngettext=lambda one, many, n: request_translations().ungettext(one, many, n),
        pgettext=lambda context, text: request_translations().upgettext(context, text),
        npgettext=lambda context, one, many, n: request_translations().unpgettext(
            context, one, many, n
        ),
        newstyle=True,
    )
    # {% trans %} blocks wrap like the HTML around them: their msgids are one line each.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.jinja_env.globals["html_language"] = html_language
    app.jinja_env.filters["moment"] = format_moment
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["translated"] = translated
