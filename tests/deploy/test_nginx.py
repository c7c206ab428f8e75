"""The shipped nginx and gunicorn configurations, run for real: HTTPS cookies, the client's
address, and forwarded headers from someone who is not the proxy."""

import json
import re
import time

import pytest
import sqlalchemy as sa

from idp.core.extensions import db
from tests import factories
from tests.conftest import TEST_SECRET, csrf_token, make_test_app
from tests.deploy.conftest import WebClient, nginx_config, start_gunicorn, start_nginx, stop
from tests.smtp_server import free_port

AUTH = "/flow/default-authentication-flow/"
SPOOFED = "203.0.113.9"
CLIENT = "127.0.0.2"  # loopback, but not the proxy's 127.0.0.1


class Deployment:
    def __init__(self, folder, database_url, https_port, http_port, gunicorn_port, username):
        self.folder = folder
        self.engine = sa.create_engine(database_url)
        self.https_port = https_port
        self.http_port = http_port
        self.gunicorn_port = gunicorn_port
        self.username = username

    def through_nginx(self, **kwargs) -> WebClient:
        return WebClient(self.https_port, https=True, **kwargs)

    def direct(self, **kwargs) -> WebClient:
        return WebClient(self.gunicorn_port, **kwargs)

    def ips_of(self, sql: str, **parameters) -> set[str]:
        with self.engine.connect() as connection:
            return {row[0] for row in connection.execute(sa.text(sql), parameters)}


@pytest.fixture(scope="module")
def deployment(nginx_binary, tmp_path_factory):
    folder = tmp_path_factory.mktemp("deploy")
    database_url = f"sqlite:///{folder / 'gatehouse.db'}"
    app = make_test_app(folder, database_url)
    with app.app_context():
        db.create_all()
        factories.load_shipped_flows()
        username = factories.make_user().username
        db.engine.dispose()
    gunicorn_port, https_port, http_port = free_port(), free_port(), free_port()
    gunicorn = start_gunicorn(
        folder,
        gunicorn_port,
        {
            "IDP_DATABASE_URL": database_url,
            "IDP_SECRET_KEY": TEST_SECRET,
            "IDP_INSTANCE_PATH": str(folder / "instance"),
            "IDP_BCRYPT_ROUNDS": "4",
            "IDP_TRUSTED_PROXIES": "127.0.0.1",
            "IDP_LOG_FORMAT": "json",
        },
    )
    try:
        config = nginx_config(folder, https_port, http_port, gunicorn_port)
        nginx = start_nginx(nginx_binary, folder, config, https_port)
        try:
            deployment = Deployment(
                folder, database_url, https_port, http_port, gunicorn_port, username
            )
            yield deployment
            deployment.engine.dispose()
        finally:
            stop(nginx)
    finally:
        stop(gunicorn)


def sign_in(client: WebClient, username: str, password: str):
    page = client.get(AUTH)
    assert page.status == 200, page.body
    answer = client.post(AUTH, {"uid_field": username, "csrf_token": csrf_token(page.body)})
    assert answer.status == 303
    page = client.get(AUTH)
    return client.post(AUTH, {"password": password, "csrf_token": csrf_token(page.body)})


def session_cookie(answer) -> str:
    cookies = [cookie for cookie in answer.set_cookies if "gatehouse_session=" in cookie]
    assert len(cookies) == 1, answer.set_cookies
    return cookies[0]


def test_over_https_through_nginx_the_session_cookie_is_secure_with_the_host_prefix(
    deployment,
):
    answer = deployment.through_nginx().get(AUTH)
    assert answer.status == 200
    cookie = session_cookie(answer)
    assert cookie.startswith("__Host-gatehouse_session=")
    assert re.search(r";\s*Secure", cookie) and re.search(r";\s*HttpOnly", cookie)
    assert "Path=/" in cookie and "Domain" not in cookie
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_through_nginx_is_sent_to_https(deployment):
    answer = WebClient(deployment.http_port).get(AUTH + "?next=/me")
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://localhost{AUTH}?next=/me"


def test_signing_in_through_nginx_records_the_real_client_ip_not_a_spoofed_one(deployment):
    client = deployment.through_nginx(headers={"X-Forwarded-For": SPOOFED})
    wrong = sign_in(client, deployment.username, "not the password")
    assert wrong.status == 400 and "Invalid username or password." in wrong.body
    assert deployment.ips_of("SELECT key FROM failed_attempts WHERE scope = 'ip'") == {CLIENT}
    assert deployment.ips_of("SELECT ip FROM events WHERE action = 'login_failed'") == {CLIENT}

    client = deployment.through_nginx(headers={"X-Forwarded-For": SPOOFED})
    right = sign_in(client, deployment.username, factories.PASSWORD)
    assert right.status == 303 and right.headers["Location"] == "/me"
    assert session_cookie(right).startswith("__Host-gatehouse_session=")
    assert deployment.ips_of("SELECT ip FROM user_sessions") == {CLIENT}
    assert client.get("/me").status == 200


def test_a_client_talking_to_gunicorn_directly_cannot_claim_another_ip_or_https(deployment):
    client = deployment.direct(
        headers={"X-Forwarded-For": SPOOFED, "X-Forwarded-Proto": "https"}, source=CLIENT
    )
    first = client.get(AUTH)
    cookie = session_cookie(first)
    assert cookie.startswith("gatehouse_session=") and "Secure" not in cookie
    assert "Strict-Transport-Security" not in first.headers
    name = "nobody-" + deployment.username
    assert sign_in(client, name, "not the password").status == 400
    assert deployment.ips_of("SELECT ip FROM events WHERE username = :name", name=name) == {CLIENT}
    assert SPOOFED not in deployment.ips_of("SELECT key FROM failed_attempts")


def test_the_request_id_is_nginxs_through_the_proxy_and_never_the_clients_own(deployment):
    forged = "forged-request-id-0001"
    through_nginx = deployment.through_nginx().get("/healthz", headers={"X-Request-ID": forged})
    direct = deployment.direct().get("/healthz", headers={"X-Request-ID": forged})
    # nginx replaces the header with its $request_id (32 hex digits); the app echoes that.
    assert re.fullmatch(r"[0-9a-f]{32}", through_nginx.headers["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", direct.headers["X-Request-ID"])


def test_metrics_are_not_served_through_nginx_but_summed_over_workers_on_loopback(deployment):
    assert deployment.through_nginx().get("/metrics").status == 404
    for _ in range(6):
        deployment.direct().get("/healthz")
    metrics = deployment.direct(source="127.0.0.1").get("/metrics")
    assert metrics.status == 200
    served = re.search(
        r'gatehouse_http_requests_total\{endpoint="ops.healthz",method="GET",status="200"\} '
        r"([0-9.]+)",
        metrics.body,
    )
    assert served and float(served.group(1)) >= 6


def test_logs_are_json_lines_and_neither_log_holds_a_mailed_token(deployment):
    token = "Zq9-mailed-token-that-must-not-be-logged"
    answer = deployment.through_nginx().get(f"/flow/email/{token}?next=/me")
    assert answer.status == 400
    request_id = answer.headers["X-Request-ID"]
    gunicorn_log = deployment.folder / "gunicorn.log"
    for _ in range(50):  # the access line is written just after the answer is sent
        if request_id in gunicorn_log.read_text():
            break
        time.sleep(0.1)
    entries = [json.loads(line) for line in gunicorn_log.read_text().splitlines() if line]
    access = [entry for entry in entries if entry.get("request_id") == request_id]
    assert [entry["path"] for entry in access if entry["logger"] == "gunicorn.access"] == [
        "/flow/email/[hidden]"
    ]
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)
    nginx_log = deployment.folder / "access.log"
    for _ in range(50):  # nginx too writes its line once the answer has gone
        if request_id in nginx_log.read_text():
            break
        time.sleep(0.1)
    nginx_access_log = nginx_log.read_text()
    assert "/flow/email/[hidden]" in nginx_access_log
    for log in (gunicorn_log.read_text(), nginx_access_log):
        assert token not in log and "next=" not in log
