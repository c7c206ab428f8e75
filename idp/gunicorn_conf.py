"""gunicorn settings for Gatehouse, installed with the package (a wheel too):
`gunicorn -c python:idp.gunicorn_conf idp.wsgi:app`. A checkout's gunicorn.conf.py is these
settings, so `gunicorn wsgi:app` run from the checkout reads them as well. Every value can be
changed by the environment variable named beside it (or on the command line, which wins).

Decisions worth knowing:
- Preload (GUNICORN_PRELOAD=0 turns it off): the master builds the app once and the workers
  share its pages, so each added worker costs less memory (bench/signin.py reports RSS and
  PSS). No database connection made in the master is used across fork: post_fork drops the
  engine's pool in each worker (without closing the master's sockets), so every worker opens
  its own. Before the first fork the master also compiles the templates (all but the admin's)
  and loads the language catalogs (when_ready), which each worker would otherwise do for
  itself. The price: `kill -HUP` restarts the workers from the code the master loaded; a new
  release needs a restart of the master (or USR2).
- gunicorn believes no forwarded headers (forwarded_allow_ips is empty): Gatehouse itself
  decides, from IDP_TRUSTED_PROXIES, whether X-Forwarded-For and X-Forwarded-Proto count
  (idp/core/network.py). One list, one place.
- Metrics from all workers: prometheus_client's multiprocess mode, in a folder made here.
"""

import gc
import json
import os
import re
import shutil
import tempfile
from pathlib import Path

from flask import Flask
from gunicorn import glogging

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split()
# Threaded workers (gthread): bcrypt releases the GIL, so while one thread hashes a password
# (60-250 ms of CPU) the worker's other threads serve pages. Chosen by measurement
# (bench/latency.py): with sign-ins under way, sync workers queued pages behind the hashes.
# Two workers per core; each thread holds at most two database connections at once (the
# failed-attempt counters commit on their own), within IDP_DATABASE_POOL_SIZE.
workers = int(
    os.environ.get("GUNICORN_WORKERS")
    or os.environ.get("WEB_CONCURRENCY")
    or 2 * (os.cpu_count() or 1)
)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))  # a silent worker is restarted
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = 5
# Recycle workers now and then (jittered so they do not all restart at once).
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "10000"))
max_requests_jitter = max_requests // 10
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"

forwarded_allow_ips = ""
proxy_allow_ips = ""
# One gunicorn per machine need not listen on a control socket (gunicorn 24+); several would clash.
control_socket_disable = True

accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# prometheus_client reads this when it is first imported, in each worker: set it before.
_metrics_folder_is_ours = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _metrics_folder_is_ours:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gatehouse-metrics-")
METRICS_FOLDER = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
METRICS_FOLDER.mkdir(parents=True, exist_ok=True)  # before the preloaded app makes its files


def on_starting(server):
    # Numbers left by an earlier run would be added to this one's. With preload the master
    # has already made its own files (counter_<pid>.db): those stay, its workers inherit them.
    for leftover in METRICS_FOLDER.glob("*.db"):
        if not leftover.stem.endswith(f"_{os.getpid()}"):
            leftover.unlink()


def when_ready(server):
    # Once, before the first fork: what every worker would otherwise compile or load for itself
    # on its first requests (templates, catalogs) is made here and shared (idp/core/warmup.py).
    app = server.app.wsgi() if server.cfg.preload_app else None
    # Gatehouse's app, not another one served with these settings (the bench's reference).
    if isinstance(app, Flask) and app.import_name == "idp":
        from idp.core.warmup import warm_up

        try:
            warm_up(app)
        except Exception:  # a page that cannot compile fails when asked for, not the server
            server.log.exception("warm-up failed; the workers compile on demand")


def pre_fork(server, worker):
    # Everything the master loaded (the preloaded app) goes to the collector's permanent
    # generation: a worker's collections then never write to the pages it shares with the
    # master, which they otherwise copy one by one (Python's gc.freeze documentation).
    gc.freeze()


def post_fork(server, worker):
    app = worker.app.wsgi()
    database = getattr(app, "extensions", {}).get("sqlalchemy")  # Flask-SQLAlchemy's
    if not server.cfg.preload_app or database is None:
        return
    with app.app_context():
        # A fresh pool in the worker; close=False leaves the master's connections alone.
        database.engine.dispose(close=False)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _metrics_folder_is_ours:
        shutil.rmtree(METRICS_FOLDER, ignore_errors=True)


# A path segment this long could be a mailed link's token (token_urlsafe(32) is 43 characters).
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{24,}")


def _path_of(req, environ) -> str:
    """The app leaves the path to log in the environ (secret parts hidden). When gunicorn
    answers an error itself it makes a new environ without it, or a PATH_INFO: the path
    comes from the request line then, with its query string cut and token-like parts hidden."""
    path = environ.get("gatehouse.log_path")
    if path:
        return path
    raw = environ.get("PATH_INFO") or getattr(req, "path", None) or "-"
    return _TOKEN_LIKE.sub("[hidden]", raw)


class AccessLog(glogging.Logger):
    """One line per request: plain text, or JSON with IDP_LOG_FORMAT=json. The path comes
    from the app with secret parts hidden (a mailed link's token) and no query string; the
    Referer is left out because it can hold such a link too. With JSON, gunicorn's own
    messages are JSON as well, so every line of the output parses."""

    def setup(self, cfg):
        super().setup(cfg)
        if os.environ.get("IDP_LOG_FORMAT") == "json":
            from idp.core.logs import JsonFormatter

            for handler in self.error_log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        status = str(resp.status).split(None, 1)[0]
        entry = {
            "time": self.now()[1:-1],
            "request_id": dict(resp.headers).get("X-Request-ID", "-"),
            "peer": environ.get("REMOTE_ADDR", "-"),
            "forwarded_for": environ.get("HTTP_X_FORWARDED_FOR", "-"),
            "method": environ.get("REQUEST_METHOD", "-"),
            "path": _path_of(req, environ),
            "status": int(status) if status.isdigit() else status,
            "bytes": getattr(resp, "sent", None) or 0,
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": environ.get("HTTP_USER_AGENT", "-")[:200],
        }
        if os.environ.get("IDP_LOG_FORMAT") == "json":
            line = {"level": "info", "logger": "gunicorn.access", "message": "request", **entry}
            self.access_log.info(json.dumps(line))
            return
        # The path (decoded: %0A is a line break), X-Forwarded-For and User-Agent are the
        # client's: escaped, so they can neither end their quotes nor start a line.
        from idp.core.logs import escaped

        for key in ("method", "path", "forwarded_for", "user_agent"):
            entry[key] = escaped(entry[key])
        self.access_log.info(
            '%(peer)s [%(time)s] "%(method)s %(path)s" %(status)s %(bytes)s %(duration_ms)sms '
            'request_id=%(request_id)s forwarded_for="%(forwarded_for)s" "%(user_agent)s"',
            entry,
        )


logger_class = AccessLog
