"""App-wide error pages: roll back first, then answer with a page (or a fragment for HTMX)."""

import logging

from flask import current_app, flash, g, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from idp.brand.settings import use_last_known_brand
from idp.core.database import refused_as_missing
from idp.core.extensions import db
from idp.core.http import errors_in_json, sent_by_htmx
from idp.core.i18n import N_, translated

log = logging.getLogger("idp.core.errors")

TITLES = {
    400: N_("That request was not understood"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Not allowed here"),
    413: N_("Too large"),
    429: N_("Too many requests"),
    503: N_("Temporarily unavailable"),
}

# In place of Werkzeug's own descriptions, which are in English only.
MESSAGES = {
    400: N_("The request could not be understood. Please go back and try again."),
    403: N_("You may not open this page."),
    404: N_("There is nothing at this address."),
    405: N_("This page cannot be used that way."),
    413: N_("What was sent is too large."),
    429: N_("Too many requests. Please wait a moment and try again."),
}


# The OAuth 2.0 error code of each status, for endpoints that answer in JSON (RFC 6749 5.2).
JSON_ERROR_CODES = {403: "access_denied", 429: "temporarily_unavailable"}


def _page(status: int, message: str):
    db.session.rollback()
    if errors_in_json():
        return _json_answer(status, message)
    title = translated(TITLES.get(status, N_("Something went wrong")))
    message = translated(message)
    response = make_response(
        render_template("errors/error.html", status=status, title=title, message=message), status
    )
    if sent_by_htmx():
        # htmx swaps no error page; reload so the visitor sees the message as a page.
        flash(message, "error")
        response.headers["HX-Refresh"] = "true"
    return response


def _json_answer(status: int, message: str):
    if status >= 500:
        error = "temporarily_unavailable" if status == 503 else "server_error"
    else:
        error = JSON_ERROR_CODES.get(status, "invalid_request")
    return make_response(jsonify(error=error, error_description=translated(message)), status)


def _http_error(error: HTTPException):
    status = error.code or 500
    message = error.description or ""
    if message == type(error).description:
        message = MESSAGES.get(status, message)
    response = _page(status, message)
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110 15.5.6
    return response


def _csrf_error(error: CSRFError):
    if "referrer" in (error.description or ""):
        # Over HTTPS the form must say it came from this site's page (Flask-WTF's strict
        # check): trying again would fail the same way, so say what is missing.
        return _page(
            400,
            N_(
                "This form was not sent from a page of this site: the browser sent no "
                "Referer header, or another site's. Allow this site to receive it, then try again."
            ),
        )
    return _page(400, N_("The form had expired or was incomplete. Please try again."))


def _bad_characters():
    """NUL bytes fit no text column (PostgreSQL refuses them): refuse the request up front.
    So is a query string that is not UTF-8 (a raw byte, not percent-encoded), which werkzeug
    cannot read: gunicorn refuses it and the development server quotes it, but a WSGI server
    may pass it on as it came."""
    try:
        values = [request.path, *request.args.values()]
        if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
            values += list(request.form.values())
        allowed = not any("\x00" in value for value in values)
    except UnicodeDecodeError:
        allowed = False
    if not allowed:
        return _page(400, N_("The request contained characters that are not allowed."))
    return None


def _number_too_large(error: OverflowError):
    return _page(400, N_("A number in the request is too large."))


def _database_refused(error: DataError):
    return _page(400, N_("The request contained a value the database cannot store."))


def _deleted_meanwhile(error: StaleDataError | ObjectDeletedError):
    """The row the request changes was deleted by another request at the same moment (an
    edit saved while another administrator deleted it): the update met no row."""
    return _page(
        404,
        N_("It was deleted in the meantime, elsewhere or by someone else. Nothing was changed."),
    )


def _integrity_refused(error: IntegrityError):
    """A foreign key refused a write: what it points at was deleted by another request after
    this one found it (a member added to a group deleted at that moment). Anything else the
    database refused is a bug."""
    if refused_as_missing(error):
        return _deleted_meanwhile(error)
    return _unexpected(error)


def _database_unavailable(error: OperationalError | InterfaceError | PoolTimeout):
    log.error("database unavailable", extra={"error": str(getattr(error, "orig", error))[:200]})
    # The page must not ask the database anything: a rollback or loading the signed-in user
    # would fail again and turn the 503 into a 500.
    db.session().invalidate()
    g._login_user = current_app.login_manager.anonymous_user()
    product = use_last_known_brand().product_name
    return _page(
        503,
        _("%(product)s cannot reach its database right now. Please try again shortly.")
        % {"product": product},
    )


def _close_session(error: BaseException | None) -> None:
    """The request's last rollback can meet a connection the server has just cut (a restart,
    a failover): the connection is dropped, and the answer already given stands."""
    try:
        db.session.remove()
    except (OperationalError, InterfaceError) as failure:
        log.warning(
            "database connection lost at the end of a request",
            extra={"error": str(failure.orig)[:200]},
        )
        db.session().invalidate()
        db.session.remove()


def _unexpected(error: Exception):
    log.exception("unexpected error")
    return _page(500, N_("Something went wrong on our side. Please try again."))


def init_app(app) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    # Refused or lost connections, a closed connection used again, no free connection in the
    # pool in time: all mean "try again shortly", not a bug.
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.register_error_handler(unavailable, _database_unavailable)
    app.register_error_handler(DataError, _database_refused)
    for deleted in (StaleDataError, ObjectDeletedError):
        app.register_error_handler(deleted, _deleted_meanwhile)
    app.register_error_handler(IntegrityError, _integrity_refused)
    app.register_error_handler(OverflowError, _number_too_large)
    app.before_request(_bad_characters)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first.
    app.teardown_appcontext(_close_session)
    app.register_error_handler(Exception, _unexpected)
