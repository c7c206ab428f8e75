"""A database outage, for real: a throwaway PostgreSQL server stopped and started under the
app. Pages answer a clean 503, /readyz names the database, nothing is half written, and the
app recovers by itself when the server is back."""

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from idp.core.extensions import db
from tests import factories
from tests.conftest import FlowDriver, csrf_token, make_test_app
from tests.smtp_server import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
AUTH = "default-authentication-flow"
UNAVAILABLE = "Gatehouse cannot reach its database right now."


def _missing() -> str | None:
    if not (PG_BIN / "pg_ctl").is_file():
        return f"no PostgreSQL server binaries in {PG_BIN}"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "starting a PostgreSQL server needs root (runuser) or the postgres user"
    return None


pytestmark = [pytest.mark.postgres, pytest.mark.skipif(bool(_missing()), reason=_missing() or "")]


class ThrowawayPostgres:
    """initdb and pg_ctl as the postgres user, on a free port, socket in a temporary folder."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="gatehouse-outage-"))
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        shutil.chown(self.folder, "postgres")
        self.folder.chmod(0o700)

    def run(self, *command):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=60)

    def create(self):
        self.run(str(PG_BIN / "initdb"), "-D", str(self.folder / "data"), "-A", "trust",
                 "-U", "postgres", "--no-sync")  # fmt: skip

    def start(self):
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-o", options,
                 "-l", str(self.folder / "server.log"), "-w", "start")  # fmt: skip

    def stop(self):
        # fast: running transactions are cut off and rolled back, as in a crash or failover.
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.folder / "data"), "-m", "fast", "-w",
                 "stop")  # fmt: skip

    def remove(self):
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def server():
    server = ThrowawayPostgres()
    server.create()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def app(tmp_path, server):
    app = make_test_app(tmp_path, server.url)
    with app.app_context():
        db.create_all()
        factories.load_shipped_flows()
        factories.make_user(username="alice")
    yield app
    with app.app_context():
        db.engine.dispose()


def assert_clean_503(response):
    body = response.get_data(as_text=True)
    assert response.status_code == 503, body
    assert UNAVAILABLE in body
    assert "Traceback" not in body and "psycopg" not in body and "sqlalchemy" not in body


def signed_in(flows) -> bool:
    return flows.client.get("/me").status_code == 200


def test_an_outage_answers_503_pages_and_the_app_recovers_without_a_restart(app, server):
    signed = FlowDriver(app.test_client())
    signed.sign_in("alice", factories.PASSWORD)
    assert signed_in(signed)
    visitor = FlowDriver(app.test_client())
    visitor.open(AUTH)
    answer = {"uid_field": "alice", "csrf_token": csrf_token(visitor.page)}

    server.stop()
    assert_clean_503(signed.client.get("/me"))
    assert_clean_503(FlowDriver(app.test_client()).open(AUTH))
    assert_clean_503(visitor.submit(AUTH, answer, csrf=False))
    htmx = visitor.submit(AUTH, answer, htmx=True, csrf=False)
    assert htmx.status_code == 503 and htmx.headers["HX-Refresh"] == "true"
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable", "database": "unreachable"}
    assert app.test_client().get("/healthz").status_code == 200

    server.start()
    assert app.test_client().get("/readyz").get_json()["database"] == "ok"
    assert signed_in(signed)
    visitor.open(AUTH)
    visitor.submit(AUTH, {"uid_field": "alice"})
    visitor.submit(AUTH, {"password": factories.PASSWORD})
    assert signed_in(visitor)


def test_a_server_lost_in_the_middle_of_a_sign_in_leaves_nothing_half_written(app, server):
    flows = FlowDriver(app.test_client())
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": "alice"})
    with app.app_context():
        engine = db.engine

    def stop_before_the_session_is_written(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO user_sessions"):
            server.stop()

    sa.event.listen(engine, "before_cursor_execute", stop_before_the_session_is_written)
    try:
        assert_clean_503(flows.submit(AUTH, {"password": factories.PASSWORD}))
    finally:
        sa.event.remove(engine, "before_cursor_execute", stop_before_the_session_is_written)

    server.start()
    with app.app_context():
        written = db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM user_sessions),"
                " (SELECT count(*) FROM events WHERE action IN ('login', 'flow_completed'))"
            )
        ).one()
    assert tuple(written) == (0, 0)
    assert not signed_in(flows)
    flows.open(AUTH)
    flows.sign_in("alice", factories.PASSWORD)
    assert signed_in(flows)


class SignInLoad:
    """Clients signing in over and over in threads, each answer kept with the moment it came."""

    def __init__(self, app, usernames):
        self.app = app
        self.usernames = usernames
        self.answers = []  # (monotonic time, status, is_signed_in_check)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._client, args=(name,)) for name in usernames]

    def _keep(self, response, is_sign_in=False):
        body = response.get_data(as_text=True)
        with self.lock:
            self.answers.append((time.monotonic(), response.status_code, is_sign_in, body))
        return response.status_code < 400

    def _client(self, username):
        while not self.stop.is_set():
            client = self.app.test_client()
            url = f"/flow/{AUTH}/"
            for fields in ({"uid_field": username}, {"password": factories.PASSWORD}):
                page = client.get(url)
                if not self._keep(page):
                    break
                form = {**fields, "csrf_token": csrf_token(page.get_data(as_text=True))}
                if not self._keep(client.post(url, data=form)):
                    break
            else:
                self._keep(client.get("/me"), is_sign_in=True)

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def signed_in_after(self, moment) -> int:
        return sum(
            1
            for at, status, is_sign_in, _ in self.answers
            if is_sign_in and status == 200 and at > moment
        )


def test_an_outage_in_the_middle_of_load_gives_503s_then_sign_ins_resume(app, server):
    usernames = [f"user{index}" for index in range(6)]
    with app.app_context():
        for name in usernames:
            factories.make_user(username=name)
    with SignInLoad(app, usernames) as load:
        time.sleep(1.5)
        stopped_at = time.monotonic()
        server.stop()
        time.sleep(1.5)
        server.start()
        restarted_at = time.monotonic()
        time.sleep(2.5)

    statuses = {status for _, status, _, _ in load.answers}
    assert statuses <= {200, 303, 503}, statuses
    assert not any("Traceback" in body for *_, body in load.answers)
    during = [status for at, status, _, _ in load.answers if stopped_at < at < restarted_at]
    assert 503 in during
    assert load.signed_in_after(0) and load.signed_in_after(restarted_at)
    with app.app_context():
        sessions, logins = db.session.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM user_sessions),"
                " (SELECT count(*) FROM events WHERE action = 'login')"
            )
        ).one()
    # A sign-in writes its session row and its event in one transaction: never one alone.
    assert sessions == logins > 0
