"""The words of the error page a person sees when an authorization request cannot be sent back
to its application (no checked redirect URI). authlib phrases its error descriptions in English;
the known ones are said again here in the page's language. The `error` code itself, and the
error_description a client receives in a redirect or a JSON answer, stay English (RFC 6749)."""

import re

from flask_babel import gettext as _

from idp.core.i18n import N_

# authlib's descriptions (authlib/oauth2/rfc6749), matched whole, and what the page says instead.
KNOWN_DESCRIPTIONS = (
    (
        re.compile(r"Redirect URI (?P<uri>.+) is not supported by client\."),
        N_("The address %(uri)s is not one this application registered to come back to."),
    ),
    (
        re.compile(r"Missing 'redirect_uri' in request\."),
        N_("The request names no address to come back to, and the application has no default."),
    ),
    (
        re.compile(r"Missing 'client_id' parameter\."),
        N_("The request does not say which application sent it."),
    ),
    (
        re.compile(r"The client does not exist on this server\."),
        N_("No application with this client ID is known here."),
    ),
    (
        re.compile(r"Multiple '(?P<parameter>\w+)' in request\."),
        N_("The request gives %(parameter)s more than once."),
    ),
    (
        re.compile(r"The response type '(?P<type>.*)' is not supported by the server\."),
        N_("The response type %(type)s is not supported."),
    ),
    (
        re.compile(r"The client is not authorized to use 'response_type=(?P<type>.*)'"),
        N_("This application may not use the response type %(type)s."),
    ),
)


def description_in_words(description: str | None) -> str:
    """authlib's description in the page's language; one it is not known to give, as it is."""
    if not description:
        return ""
    for pattern, words in KNOWN_DESCRIPTIONS:
        if found := pattern.fullmatch(description):
            return _(words, **found.groupdict())
    return description
