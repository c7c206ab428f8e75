"""What every view asks of a request that HTMX may have sent: a page or a fragment, how to
send the browser on, and which `next` to believe. One answer for the whole app."""

from urllib.parse import urlsplit, urlunsplit

from flask import current_app, make_response, redirect, render_template, request, url_for
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.urls import iri_to_uri

# Send with every answer whose body depends on is_htmx(): a cache must keep both.
VARY_ON_HTMX = {"Vary": "HX-Request"}


def sent_by_htmx() -> bool:
    """Any request HTMX made, a boosted page load or a history restore included."""
    return request.headers.get("HX-Request") == "true"


def is_htmx() -> bool:
    """A partial request that gets a fragment: HTMX, and not a boosted page load or a history
    restore (those want the whole page)."""
    headers = request.headers
    return (
        sent_by_htmx()
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def to_sign_in():
    """Send a visitor who is not signed in (any more) to sign in, and back here afterwards.
    A partial HTMX request (a dialog asked for after the session ended) reloads its page
    instead: htmx would fill the dialog with the sign-in page, and come back to the dialog
    alone; the page's own request goes to sign in and comes back to the page."""
    if is_htmx():
        return make_response("", 200, {"HX-Refresh": "true"})
    return redirect(sign_in_address())


def sign_in_address() -> str:
    """The sign-in page, coming back here (or where this form was posted from) afterwards."""
    return url_for("account.login", next=_back_after_sign_in() or None)


def _back_after_sign_in() -> str:
    """This address, for a GET. A form posted after the session ended cannot be sent again
    by the redirect after signing in (a GET of a POST-only address is a 405): back to the
    page on this site that it was posted from, else to the default page."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    try:
        referrer = urlsplit(request.referrer or "")
    except ValueError:  # a header that is no URL ("http://[::1/"): no page to go back to
        return ""
    if referrer.scheme not in ("http", "https") or referrer.netloc != request.host:
        return ""
    return safe_next(urlunsplit(("", "", referrer.path, referrer.query, "")))


def redirect_to(target: str):
    """303 to `target`; for HTMX a 200 with HX-Redirect, as htmx ignores headers on a 3xx."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = iri_to_uri(target)
        return response
    return redirect(target, code=303)


def safe_next(value: str | None) -> str:
    """Only a same-site relative path; anything else falls back to the default page."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return ""
    if any(ord(character) < 32 or character == "\\" for character in value):
        return ""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return ""
    return value


def _navigation_from_our_pages() -> bool:
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site == "same-origin"
    return request.headers.get("Upgrade-Insecure-Requests") == "1"


def leave_site(url: str, name: str = ""):
    """Send the browser to another site (an app). Straight after a form was posted here, this
    request is the end of its redirects, and Chromium holds the whole chain to the form page's
    CSP (form-action 'self'), stopping at the other site. So a navigation from our own pages
    gets a page that moves on by itself (Refresh) and links there: Sec-Fetch-Site
    same-origin, or no Fetch Metadata from a browser (Chromium sends none to a plain-HTTP
    host other than localhost; every browser's navigation says Upgrade-Insecure-Requests).
    Others get a 303, and so do HTTP libraries and scripts, which follow only redirects and
    hold no CSP."""
    if not _navigation_from_our_pages():
        return redirect(url, 303)
    response = make_response(render_template("leave.html", url=url, name=name))
    response.headers["Refresh"] = f"0; url={iri_to_uri(url)}"
    return response


JSON_ERRORS = "idp_json_error_endpoints"


def answer_errors_in_json(app, endpoints) -> None:
    """Endpoints that clients call, not browsers (an OAuth token endpoint): the app's error
    answers there are JSON, as those clients read them, instead of pages."""
    app.extensions.setdefault(JSON_ERRORS, set()).update(endpoints)


def errors_in_json() -> bool:
    return _endpoint_asked_for() in current_app.extensions.get(JSON_ERRORS, ())


def _endpoint_asked_for() -> str | None:
    """The request's endpoint; for a method the URL does not take (a 405), the URL's own."""
    error = request.routing_exception
    if request.endpoint or not isinstance(error, MethodNotAllowed) or not error.valid_methods:
        return request.endpoint
    try:
        endpoint, _arguments = current_app.create_url_adapter(request).match(
            method=error.valid_methods[0]
        )
    except HTTPException:
        return None
    return endpoint
