"""Prometheus metrics, served at /metrics.

Labels stay bounded: endpoints and stage types come from the code, flow slugs from the admin
(a handful), outcomes and factors from fixed lists here. No user names, IPs or stage names.

Under gunicorn (idp/gunicorn_conf.py sets PROMETHEUS_MULTIPROC_DIR) every worker writes its
numbers to files in that folder and /metrics adds them up; elsewhere one process registry.
"""

import os
import time

from flask import Blueprint, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from idp.core.network import client_ip, is_in

bp = Blueprint("metrics", __name__)

METHODS = frozenset({"GET", "POST", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
STAGE_SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

REQUESTS = Counter(
    "gatehouse_http_requests",
    "HTTP requests answered, by endpoint, method and status.",
    ["endpoint", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "gatehouse_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint.",
    ["endpoint"],
    buckets=STAGE_SECONDS_BUCKETS,
)
FLOW_STARTS = Counter("gatehouse_flow_starts", "Flows started (a new plan), by flow.", ["flow"])
FLOW_COMPLETIONS = Counter(
    "gatehouse_flow_completions", "Flows run to their end, by flow.", ["flow"]
)
STAGE_OUTCOMES = Counter(
    "gatehouse_stage_outcomes",
    "Answers to stages, by stage type and outcome (advance, retry, stay, deny, invalid).",
    ["stage_type", "outcome"],
)
STAGE_SECONDS = Histogram(
    "gatehouse_stage_duration_seconds",
    "Time a stage took to weigh an answer (password hashing included), by stage type.",
    ["stage_type"],
    buckets=STAGE_SECONDS_BUCKETS,
)
SIGN_INS = Counter("gatehouse_sign_ins", "Sessions started (successful sign-ins).")
SIGN_IN_FAILURES = Counter(
    "gatehouse_sign_in_failures",
    "Wrong passwords, codes and refused passkeys, by factor (password, code, passkey).",
    ["factor"],
)
THROTTLED = Counter(
    "gatehouse_throttled_attempts",
    "Attempts refused because their account, IP or user must wait, by factor.",
    ["factor"],
)
POLICY_ERRORS = Counter(
    "gatehouse_policy_errors",
    "Policies that raised, by policy type and what followed (failed_closed, failure_result).",
    ["policy_type", "result"],
)
OAUTH2_TOKENS = Counter(
    "gatehouse_oauth2_tokens", "OpenID Connect tokens issued, by grant type.", ["grant_type"]
)
OAUTH2_AUTHORIZATIONS = Counter(
    "gatehouse_oauth2_authorizations",
    "Authorization requests answered, by outcome (code, denied, login_required, ...).",
    ["outcome"],
)


def _start_timer():
    g.metrics_started = time.perf_counter()


def _count_request(response):
    endpoint = request.endpoint or "unmatched"
    method = request.method if request.method in METHODS else "other"
    REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
    started = g.get("metrics_started")
    if started is not None:
        REQUEST_SECONDS.labels(endpoint).observe(time.perf_counter() - started)
    return response


def _registry():
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


@bp.get("/metrics")
def metrics():
    # client_ip(), not the peer: through a reverse proxy on this host every peer is loopback.
    if not is_in(client_ip(), current_app.config["METRICS_ALLOWED"]):
        abort(403, description="Metrics are not served to this address.")
    return Response(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def init_app(app) -> None:
    app.before_request(_start_timer)
    app.after_request(_count_request)
    app.register_blueprint(bp)
