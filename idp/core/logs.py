"""Logs as plain text, or one JSON object per line with IDP_LOG_FORMAT=json."""

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar

from flask import g, request

from idp.core.network import is_from_trusted_proxy

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escaped(text: str, quotes: bool = True) -> str:
    """`text` with every character that is not printable (line breaks, control, bidi and
    zero-width characters) written as an escape, and with `quotes` the backslash and double
    quote too: a value someone typed (a name, a path) can neither start a log line of its
    own nor end the quoted field it stands in."""
    if text.isprintable() and (not quotes or ('"' not in text and "\\" not in text)):
        return text
    return "".join(_escape(character, quotes) for character in text)


def _escape(character: str, quotes: bool) -> str:
    if character in _ESCAPES and (quotes or character not in '"\\'):
        return _ESCAPES[character]
    if character.isprintable():
        return character
    code = ord(character)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _field_value(value) -> str:
    # key=value, quoted when the value has a space, a quote or an "=" that would make it
    # read as more fields, or nothing at all.
    text = str(value)
    if text and text.isprintable() and not any(c in text for c in ' "=\\'):
        return text
    return f'"{escaped(text)}"'


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(
            f"{key}={_field_value(value)}"
            for key, value in record.__dict__.items()
            if key not in _STANDARD
        )
        stamp = self.formatTime(record, "%H:%M:%S")
        message = escaped(record.getMessage(), quotes=False)
        line = f"{stamp} {record.levelname.lower()} {record.name}: {message}"
        line = f"{line} {fields}" if fields else line
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def configure(log_format: str) -> None:
    logger = logging.getLogger("idp")
    if any(getattr(handler, "_idp", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._idp = True
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logger.addHandler(handler)
    logger.propagate = False


def log_as_json(name: str) -> None:
    """A library's logger (Alembic's, while `idp setup` migrates) in the JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(name)
    logger.handlers = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


# -- the request id: one per request, on every log line and in the X-Request-ID header -----

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,128}")
_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
# View arguments that are secrets (the token of a mailed link): never logged, nor in paths.
SECRET_VIEW_ARGUMENTS = frozenset({"token"})
# Where the access log (idp/gunicorn_conf.py) finds the path to print.
LOG_PATH_KEY = "gatehouse.log_path"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id is not None and not hasattr(record, "request_id"):
            record.request_id = request_id
        return True


def current_request_id() -> str | None:
    return _request_id.get()


def _begin_request():
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    # Only a proxy we trust may name the request (nginx: $request_id), so its log lines and
    # ours match; anyone else could use it to forge or garble log lines.
    if is_from_trusted_proxy() and _SAFE_REQUEST_ID.fullmatch(incoming):
        request_id = incoming
    else:
        request_id = uuid.uuid4().hex
    g.request_id_token = _request_id.set(request_id)
    request.environ[LOG_PATH_KEY] = loggable_path()


def _send_request_id(response):
    request_id = _request_id.get()
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
    return response


def _end_request(error=None):
    token = g.pop("request_id_token", None)
    if token is not None:
        _request_id.reset(token)


def loggable_path() -> str:
    """The request's path without its query string and with secret path parts hidden."""
    return _hide_secrets(request.path, request.url_rule, request.view_args or {})


def _hide_secrets(path: str, rule, arguments: dict) -> str:
    if rule is None or not SECRET_VIEW_ARGUMENTS & arguments.keys():
        return path
    return re.sub(
        r"<(?:[^:<>]+:)?([^<>]+)>",
        lambda match: (
            "[hidden]"
            if match.group(1) in SECRET_VIEW_ARGUMENTS
            else str(arguments.get(match.group(1), ""))
        ),
        rule.rule,
    )


def loggable_path_of(app, environ) -> str:
    """loggable_path() for a request the app did not get to see (no request context)."""
    path = environ.get("PATH_INFO") or "/"
    try:
        rule, arguments = app.url_map.bind_to_environ(environ).match(return_rule=True)
    except Exception:  # not found, a redirect, a bad request: no route, so no secret part
        return path
    return _hide_secrets(path, rule, arguments)


class LastResort:
    """WSGI middleware, outermost: an error that escapes Flask's own handlers (one raised
    while the error page itself was being made) is answered here with a plain 500. The
    server then logs the request as usual, with its path; gunicorn's own error answer would
    have been logged without it ("GET -")."""

    BODY = b"Something went wrong on our side. Please try again.\n"

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        try:
            return self.wsgi_app(environ, start_response)
        except Exception:
            if self.app.debug:
                raise  # the development server's debugger shows it
            path = environ.get(LOG_PATH_KEY) or loggable_path_of(self.app, environ)
            environ[LOG_PATH_KEY] = path
            logging.getLogger("idp.core.errors").exception(
                "unexpected error while answering an error", extra={"path": path}
            )
            headers = [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(self.BODY))),
                ("Cache-Control", "no-store"),
            ]
            start_response("500 Internal Server Error", headers, sys.exc_info())
            return [self.BODY]


def _log_exception(exc_info) -> None:
    """Flask's own line for an error no handler answered names the raw path, a mailed
    link's token included: name the loggable one instead."""
    logging.getLogger("idp.core.errors").error(
        "unhandled error",
        exc_info=exc_info,
        extra={"path": loggable_path(), "method": request.method},
    )


def init_app(app) -> None:
    app.log_exception = _log_exception
    app.before_request(_begin_request)
    app.after_request(_send_request_id)
    app.teardown_request(_end_request)
