"""The base of every form that posts: Flask-WTF's, with wtforms' own messages ("This field is
required.") in the request's language, loaded once per language and worker. Flask-WTF reads
that catalog from disk again in every request that makes a form (0.13 ms, a twentieth of a
flow page)."""

import functools

from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import get_translations


class Form(FlaskForm):
    class Meta:
        def get_translations(self, form):
            return wtforms_messages(str(get_locale()))


@functools.cache
def wtforms_messages(language: str):
    """wtforms' catalog for one of the languages Gatehouse speaks (a handful, so all kept)."""
    return get_translations([language])
