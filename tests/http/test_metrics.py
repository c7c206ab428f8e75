"""/metrics: who may read it, and the counters moving as people use flows."""

import ipaddress

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.factories import PASSWORD, make_flow, make_user

AUTH = "default-authentication-flow"


def read_metrics(client) -> dict:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


class Metrics:
    """Counters are process-wide: a test looks at how much they moved."""

    def __init__(self, client):
        self.client = client
        self.before = read_metrics(client)

    def moved(self, name: str, **labels) -> float:
        key = (name, tuple(sorted(labels.items())))
        return read_metrics(self.client).get(key, 0) - self.before.get(key, 0)


@pytest.fixture
def user(app):
    with app.app_context():
        return make_user().username


def test_a_sign_in_moves_flow_stage_and_sign_in_counters(client, flows, user):
    metrics = Metrics(client)
    flows.sign_in(user, "wrong password")
    flows.submit(AUTH, {"password": PASSWORD})
    assert metrics.moved("gatehouse_flow_starts_total", flow=AUTH) == 1
    assert metrics.moved("gatehouse_flow_completions_total", flow=AUTH) == 1
    assert metrics.moved("gatehouse_sign_ins_total") == 1
    assert metrics.moved("gatehouse_sign_in_failures_total", factor="password") == 1
    outcomes = "gatehouse_stage_outcomes_total"
    assert metrics.moved(outcomes, stage_type="identification", outcome="advance") == 1
    assert metrics.moved(outcomes, stage_type="password", outcome="retry") == 1
    assert metrics.moved(outcomes, stage_type="password", outcome="advance") == 1
    assert metrics.moved("gatehouse_stage_duration_seconds_count", stage_type="password") == 2
    requests = "gatehouse_http_requests_total"
    assert metrics.moved(requests, endpoint="flow.execute", method="POST", status="303") == 2
    assert metrics.moved(requests, endpoint="flow.execute", method="POST", status="400") == 1


def test_an_invalid_form_is_counted_as_such(client, flows):
    metrics = Metrics(client)
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": ""})
    assert (
        metrics.moved(
            "gatehouse_stage_outcomes_total", stage_type="identification", outcome="invalid"
        )
        == 1
    )


def test_a_throttled_attempt_is_counted(app, client, flows, user):
    app.config["LOGIN_FREE_ATTEMPTS"] = 1
    metrics = Metrics(client)
    flows.sign_in(user, "wrong password")
    flows.submit(AUTH, {"password": "wrong again"})
    assert "Too many failed attempts" in flows.text
    assert metrics.moved("gatehouse_throttled_attempts_total", factor="password") == 1
    assert metrics.moved("gatehouse_sign_in_failures_total", factor="password") == 1


def flow_behind_a_failing_policy(app, **binding) -> str:
    """A flow whose own gate is a dummy policy that raises, bound with `binding`'s fields."""
    with app.app_context():
        return make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[{"name": "boom", "type": "dummy", "options": {"raise_error": True}}],
            flow_policies=[{"policy": "boom", **binding}],
        )


@pytest.mark.parametrize(
    ("binding", "status", "result"),
    [
        ({}, 403, "failed_closed"),
        # The binding decides, the flow goes on, and the error still shows.
        ({"failure_result": True}, 200, "failure_result"),
    ],
)
def test_a_policy_error_is_counted_by_policy_type_and_result(
    app, client, flows, binding, status, result
):
    slug = flow_behind_a_failing_policy(app, **binding)
    metrics = Metrics(client)
    assert flows.open(slug).status_code == status
    moved = metrics.moved("gatehouse_policy_errors_total", policy_type="dummy", result=result)
    assert moved == 1


def test_metrics_are_refused_to_addresses_outside_the_allowed_networks(client):
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 403
    assert b"gatehouse_" not in response.data


def test_through_a_trusted_proxy_the_client_decides_not_the_proxy(app, client):
    # nginx on the same host connects from loopback: that alone must not open /metrics.
    app.config["TRUSTED_PROXIES"] = (ipaddress.ip_network("127.0.0.1/32"),)
    outside = client.get("/metrics", headers={"X-Forwarded-For": "198.51.100.7"})
    assert outside.status_code == 403


def test_allowed_networks_are_configurable(app, client):
    app.config["METRICS_ALLOWED"] = (ipaddress.ip_network("198.51.100.0/24"),)
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200
    assert client.get("/metrics").status_code == 403


def test_a_simulated_policy_error_is_not_counted(app, client, flows):
    with app.app_context():
        slug = make_flow(
            [{"stage": "default-authentication-identification"}],
            policies=[{"name": "boom", "type": "dummy", "options": {"raise_error": True}}],
            flow_policies=[{"policy": "boom"}],
        )
        make_user("root", superuser=True)
    flows.sign_in("root", PASSWORD)
    metrics = Metrics(client)
    page = flows.client.get(f"/admin/flows/{slug}/simulate?user=&arrival=signed_in&ip=")
    assert page.status_code == 200
    assert "dummy policy raised as configured" in page.get_data(as_text=True)
    moved = metrics.moved(
        "gatehouse_policy_errors_total", policy_type="dummy", result="failed_closed"
    )
    assert moved == 0
