"""How an authorization response reaches the client: the response_mode it asked for (OAuth 2.0
Multiple Response Type Encoding Practices, and the Form Post Response Mode). Every answer
goes to a redirect URI already checked against the client's list, never to one from the
request alone."""

import re
from urllib.parse import parse_qsl, urlsplit

from authlib.common.urls import add_params_to_uri
from flask import make_response, redirect, render_template

from idp.core.http import leave_site
from idp.identity.security import CONTENT_SECURITY_POLICY

QUERY, FRAGMENT, FORM_POST = "query", "fragment", "form_post"
RESPONSE_MODES = (QUERY, FRAGMENT, FORM_POST)


# The site's policy without form-action, for a page whose form posts to the client: Chromium
# holds the client's redirects after the post to the CSP of the page it was sent from. Such a
# page shows only what Gatehouse wrote (autoescaped), and holds no form of another's.
def _without(policy: str, name: str) -> str:
    return "; ".join(part for part in policy.split("; ") if part.split(" ", 1)[0] != name)


FORM_POST_POLICY = _without(CONTENT_SECURITY_POLICY, "form-action")
# What a CSP source may hold of a host and port; anything else in a registered URI is left out.
_PLAIN_ORIGIN = re.compile(r"https?://([A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]+)?")


def mode_problem(data, redirect_uri: str) -> str | None:
    """Why the response_mode asked for cannot be used, for the client's error_description."""
    mode = data.get("response_mode")
    if mode is None:
        return None
    if mode not in RESPONSE_MODES:
        return "response_mode must be query, fragment or form_post."
    if mode == FORM_POST and urlsplit(redirect_uri).scheme not in ("http", "https"):
        # A browser cannot post a form to an app's own scheme; javascript: would run here.
        return "response_mode=form_post needs an http or https redirect URI."
    return None


def response_mode_of(data, redirect_uri: str) -> str:
    """The mode asked for; query (the code flow's default) when none was, or when the one
    asked for cannot be used: the error saying so goes in the query."""
    if mode_problem(data, redirect_uri):
        return QUERY
    return data.get("response_mode") or QUERY


def answer_client(redirect_uri: str, params: list, mode: str, application):
    """The parameters to the client: in the redirect URI's query or fragment, or in a form
    the browser posts there (by itself with JavaScript, with one button without)."""
    if mode == FORM_POST:
        page = render_template(
            "providers/oauth2/form_post.html",
            action=redirect_uri, params=params, name=application.name,
        )  # fmt: skip
        response = make_response(page)
        response.headers["Content-Security-Policy"] = _answer_page_policy(redirect_uri)
        response.headers["Cache-Control"] = "no-store"  # the page holds the code
        return response
    target = add_params_to_uri(redirect_uri, params, fragment=mode == FRAGMENT)
    return to_client(redirect(target, code=302), application)


def _answer_page_policy(redirect_uri: str) -> str:
    """FORM_POST_POLICY, and the client's own origin may frame the page: a silent sign-in
    (prompt=none) in an iframe of the app receives its answer so. Browsers that read CSP
    frame-ancestors ignore X-Frame-Options beside it."""
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
    if not _PLAIN_ORIGIN.fullmatch(origin):
        return FORM_POST_POLICY
    return f"{_without(FORM_POST_POLICY, 'frame-ancestors')}; frame-ancestors 'self' {origin}"


def move_answer(response, redirect_uri: str, mode: str, application):
    """authlib's answer (a redirect with the parameters added to the redirect URI's query)
    sent the way the client asked for."""
    location = response.headers.get("Location")
    if mode == QUERY or response.status_code != 302 or not location:
        return to_client(response, application)
    own = len(parse_qsl(urlsplit(redirect_uri).query, keep_blank_values=True))
    added = parse_qsl(urlsplit(location).query, keep_blank_values=True)[own:]
    return answer_client(redirect_uri, added, mode, application)


def to_client(response, application):
    """Back to the application: a redirect, or after Gatehouse's own forms a page that moves
    on by itself (see idp.core.http.leave_site)."""
    location = response.headers.get("Location")
    if response.status_code not in (301, 302, 303) or not location:
        return response
    left = leave_site(location, application.name)
    return response if left.status_code == 303 else left
