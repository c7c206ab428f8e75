"""The base of every form that posts: Flask-WTF's, with wtforms' own messages ("This field is
required.") in the request's language, loaded once per language and worker. Flask-WTF reads
that catalog from disk again in every request that makes a form (0.13 ms, a twentieth of a
flow page)."""

import functools

from babel import support
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path
from wtforms.validators import ValidationError

from idp.identity.usernames import is_one_line


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return wtforms_messages(str(get_locale()))


@functools.cache
def wtforms_messages(language: str) -> support.NullTranslations:
    """wtforms' catalog for one of the languages Gatehouse speaks (a handful, so all kept), as
    Flask-WTF loads it: English words for a language wtforms has no catalog of."""
    return support.Translations.load(messages_path(), [language], domain="wtforms")


def one_line(form, field) -> None:
    """A validator: the text is one line without control characters. A name or a title goes
    into headers (Remote-Name), logs and files (a flow's YAML) where a line break or an
    escape sequence would not survive, or would say something else."""
    if isinstance(field.data, str) and not is_one_line(field.data):
        raise ValidationError(_("One line only, without control characters."))
