"""WTForms' <input> attributes, the same text written in a fifth of the time.

Every field of every page goes through wtforms' html_params, which formats each attribute
through Markup.format (string.Formatter in Python): on a sign-in page that was a tenth of
the request. Input widgets read it from their class attribute `html_params`, which wtforms
offers for replacing; this one writes the very same text (tests/unit/test_form_widgets.py
compares the two).
"""

from markupsafe import Markup, escape
from wtforms.widgets.core import Input, clean_key


def html_params(**attributes) -> Markup:
    params = []
    for key, value in sorted(attributes.items()):
        key = clean_key(key)
        if value is True:
            params.append(escape(key))
        elif value is not False:
            # escape() leaves Markup as it is; wtforms still turns its quotes into &quot;.
            text = str(escape(value)).replace('"', "&quot;")
            params.append(f'{escape(key)}="{text}"')
    return Markup(" ".join(params))  # noqa: S704 (every name and value escaped above)


def init_app(app) -> None:
    Input.html_params = staticmethod(html_params)
