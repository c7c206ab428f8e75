"""What each request of a sign-in costs a Gatehouse worker, read from outside the process.

Run with `make bench` (or `python -m bench.signin [--quick] [--database sqlite|postgresql]`).
Prints one JSON document on stdout; progress goes to stderr.

How it measures, for each database (SQLite in a temporary folder, and a throwaway PostgreSQL
database on BENCH_DATABASE_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres):

- Gatehouse runs as deployed: `gunicorn wsgi:app` with the shipped gunicorn.conf.py (access
  log on, to a file, preload), but one single-threaded sync worker, so that its CPU time is
  that of one request at a time. Beside it, in the same run, the reference app of
  bench/reference_app.py (Jinja page, Flask-WTF form, signed cookie, one ORM query per
  request) runs under the same gunicorn.conf.py with one worker, on its own database of the
  same kind.
- Worker CPU is the scheduler's own count of the time the worker's threads ran, in
  nanoseconds (/proc/<pid>/task/*/schedstat), read before and after every request and summed
  per request step over all rounds. (utime+stime from /proc/<pid>/stat comes in 10 ms ticks:
  a 2 ms request read 0 or 10, and 200 rounds left ratios ±20 % apart.) On PostgreSQL the CPU
  of the server processes serving each app's database is read the same way ("db_cpu").
- Each measured sign-in is followed by a sign-out (not measured) that revokes the session,
  as a person's "Sign out" does: /me lists the user's sessions, and without it the page
  would list one more with every round.
- Rounds interleave everything: one whole Gatehouse sign-in, one whole reference sign-in, and
  the flow starts (3 and 100 bindings, gated by groups or by expression policies), so a change
  in the machine's load during the run hits them alike. Compare the ratios, not the
  milliseconds: the machine is shared.
- The password hash is cheap here (bcrypt cost 4 in both apps); "outside the hash" subtracts
  one cost-4 check measured in this process. The sign-ins per worker CPU-second at cost 10
  and 12 are projections: that overhead plus one check at that cost, measured here.
- SQL statements per request are counted in this process (same app, same database, Flask's
  test client), since no one outside the worker can see them.
- Memory: RSS and PSS (/proc/<pid>/smaps_rollup) of each worker after boot and after the run,
  and of the gunicorn master; then Gatehouse alone with 1 and with 3 workers, with and
  without preload, for the PSS each added worker costs, and once more with an OpenID Connect
  application (its libraries are loaded only where one exists).
"""

import argparse
import contextlib
import http.client
import json
import logging
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import bcrypt

from bench.load import (
    AS_DEPLOYED,
    children_of,
    create_database,
    drop_database,
    free_port,
    postgres_version,
    stop_gracefully,
)

ROOT = Path(__file__).resolve().parent.parent
SERVER_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-key-that-is-long-enough-for-gatehouse"
USERNAME = "bench-user"
PASSWORD = "correct horse battery staple"
ROUNDS = 4  # bcrypt cost in both apps: the hash is not what this bench is about
SIGNIN_FLOW = "/flow/default-authentication-flow/"
SIGNOUT_FLOW = "/flow/default-invalidation-flow/"
BINDING_COUNTS = (3, 100)
GATES = ("group", "expression")
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CLOCK_TICK = os.sysconf("SC_CLK_TCK")
# The reference's sign-in in the shape of Gatehouse's, by how many flow pages Gatehouse shows.
REFERENCE_ONE_PAGE = (
    ("GET", "/signin", None, 200),
    ("POST", "/signin", {"username": "reference-user", "password": PASSWORD}, 303),
    ("GET", "/me", None, 200),
)
REFERENCE_TWO_PAGES = (
    ("GET", "/login", None, 200),
    ("POST", "/login", {"username": "reference-user"}, 303),
    ("GET", "/password", None, 200),
    ("POST", "/password", {"password": PASSWORD}, 303),
    ("GET", "/me", None, 200),
)


@dataclass(frozen=True)
class Settings:
    rounds: int = 40
    warmup: int = 5
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    database_server: str = SERVER_URL
    quick: bool = False


QUICK = Settings(rounds=4, warmup=2, quick=True)


def progress(message: str) -> None:
    print(f"bench.signin: {message}", file=sys.stderr, flush=True)


def quiet(app) -> None:
    """This process's own log lines (set-up, statement counts) are not what is measured."""
    logging.getLogger("idp").setLevel(logging.WARNING)


# -- processes -------------------------------------------------------------------------------


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_ns(pid: int) -> int:
    """The time every thread of the process has run, in nanoseconds. (A thread that ends
    between two readings takes its time along: the bench's workers are single-threaded.)"""
    total, read = 0, 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):  # a thread that ended since the listing
            total += int((task / "schedstat").read_text().split()[0])
            read += 1
    if not read:
        raise RuntimeError(f"no /proc/{pid}/task/*/schedstat could be read")
    return total


def memory_of(pid: int) -> dict:
    values = {}
    for name, key in (("status", "VmRSS"), ("smaps_rollup", "Pss")):
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(f"{key}:"):
                values[key] = int(line.split()[1])
    return {
        "rss_mib": round(values.get("VmRSS", 0) / 1024, 1),
        "pss_mib": round(values.get("Pss", 0) / 1024, 1),
    }


def database_backends(name: str) -> list[int]:
    """PostgreSQL server processes connected to this database (their title names it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if title.startswith(b"postgres: ") and f" {name} ".encode() in title:
                found.append(int(entry.name))
    return found


class Gunicorn:
    """gunicorn with the shipped gunicorn.conf.py: `app` is wsgi:app or the reference app."""

    def __init__(self, app: str, env: dict, log: Path, workers=1, extra=()):
        self.port = free_port()
        self.log = log.open("ab")
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--max-requests",
            "0",
            *extra,
            app,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **AS_DEPLOYED, **env},  # both apps, so that their memory compares
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.workers = workers

    def wait_until_ready(self, timeout=60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with Browser(self.port) as browser:
                    status = browser.request("GET", "/readyz")[0]
            except OSError:
                status = None
            if status == 200 and len(self.worker_pids()) == self.workers:
                time.sleep(0.5)
                return
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not become ready")

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def stop(self) -> None:
        stop_gracefully(self.process)
        self.log.close()


# -- a cheap client ----------------------------------------------------------------------------


class Browser:
    """http.client with a cookie jar: next to nothing of the bench's CPU per request."""

    def __init__(self, port: int):
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers=None):
        headers = dict(headers or {})
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            self.connection.close()  # a keep-alive connection closed meanwhile: once more
            self.connection.request(method, path, body=body, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or ():
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.connection.close()
        return response.status, response.headers, text

    def close(self) -> None:
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exception):
        self.close()


def csrf_token(text: str) -> str:
    found = CSRF.search(text)
    if found is None:
        raise RuntimeError("no CSRF token on the page")
    return found.group(1)


# -- what is measured -----------------------------------------------------------------------


class Meter:
    """CPU nanoseconds of one worker (and its database's server processes) per named step."""

    def __init__(self, worker: int, database: str | None):
        self.worker = worker
        self.database = database
        self.backends: list[int] = []
        self.cpu: dict[str, int] = {}
        self.db_cpu: dict[str, int] = {}
        self.counts: dict[str, int] = {}
        self.order: list[str] = []

    def refresh_backends(self) -> None:
        if self.database:
            self.backends = database_backends(self.database)

    def _db_ns(self) -> int:
        total = 0
        for pid in self.backends:
            with contextlib.suppress(OSError):  # it ended since the last look
                total += cpu_ns(pid)
        return total

    def measure(self, step: str, action):
        before, db_before = cpu_ns(self.worker), self._db_ns()
        result = action()
        # The worker writes its access log line and returns the connection after answering.
        time.sleep(0.003)
        self.cpu[step] = self.cpu.get(step, 0) + cpu_ns(self.worker) - before
        self.db_cpu[step] = self.db_cpu.get(step, 0) + self._db_ns() - db_before
        self.counts[step] = self.counts.get(step, 0) + 1
        if step not in self.order:
            self.order.append(step)
        return result

    def ms_per_request(self, step: str, db=False) -> float:
        nanoseconds = (self.db_cpu if db else self.cpu)[step]
        return round(nanoseconds / 1e6 / self.counts[step], 2)


def gatehouse_sign_in(browser: Browser, meter: Meter | None, count_steps=None) -> list[str]:
    """A no-JS sign-in: every page of the flow with the fields it asks for, the 303s
    followed, then the landing page and /me. Works for one page or one page per field."""
    browser.cookies.clear()

    def call(step, method, path, form=None):
        if meter is None:
            return browser.request(method, path, form)
        return meter.measure(step, lambda: browser.request(method, path, form))

    steps = []
    path = SIGNIN_FLOW
    for _ in range(6):  # a sign-in flow of up to six pages
        status, _headers, text = call(f"GET flow page {len(steps) // 2 + 1}", "GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        fields = [name for name in ("uid_field", "password") if f'name="{name}"' in text]
        if not fields:
            raise RuntimeError("a flow page with neither a name nor a password field")
        form = {"csrf_token": csrf_token(text)}
        form.update({"uid_field": USERNAME, "password": PASSWORD})
        form = {key: value for key, value in form.items() if key == "csrf_token" or key in fields}
        step = f"POST flow page {len(steps) // 2 + 1} ({'+'.join(fields)})"
        steps += [f"GET flow page {len(steps) // 2 + 1}", step]
        status, headers, _ = call(step, "POST", path, form)
        if status != 303:
            raise RuntimeError(f"{step}: {status}")
        path = headers["Location"]
        if not urlsplit(path).path.startswith("/flow/"):
            break
    else:
        raise RuntimeError("the sign-in did not leave the flow")
    while True:
        step = f"GET {urlsplit(path).path}"
        status, headers, text = call(step, "GET", path)
        steps.append(step)
        if status in (301, 302, 303):
            path = headers["Location"]
            continue
        if status != 200 or USERNAME not in text:
            raise RuntimeError(f"{step}: {status}, not signed in")
        return steps


def gatehouse_sign_out(browser: Browser) -> None:
    """Not measured: sign out as a person does (the session is revoked in the database), so
    that every round's /me lists one session. Without it /me would list every session of
    the run so far and cost more with each round."""
    status = browser.request("GET", SIGNOUT_FLOW, headers={"Sec-Fetch-Site": "same-origin"})[0]
    if status not in (302, 303):
        raise RuntimeError(f"GET {SIGNOUT_FLOW}: {status}")


def flow_pages(steps: list[str]) -> int:
    return sum(step.startswith("POST flow page") for step in steps)


def reference_steps(pages: int) -> tuple:
    return REFERENCE_ONE_PAGE if pages == 1 else REFERENCE_TWO_PAGES


def reference_sign_in(browser: Browser, meter: Meter | None, pages: int) -> None:
    browser.cookies.clear()
    token = None
    for method, path, form, expected in reference_steps(pages):
        data = {**form, "csrf_token": token} if form is not None else None

        def call(method=method, path=path, data=data):
            return browser.request(method, path, data)

        status, _, text = meter.measure(f"{method} {path}", call) if meter else call()
        if status != expected:
            raise RuntimeError(f"reference {method} {path}: {status}")
        if method == "GET" and status == 200 and "csrf_token" in text:
            token = csrf_token(text)


def flow_start(browser: Browser, slug: str) -> None:
    browser.cookies.clear()
    status = browser.request("GET", f"/flow/{slug}/")[0]
    if status != 200:
        raise RuntimeError(f"GET /flow/{slug}/: {status}")


# -- set-up ------------------------------------------------------------------------------------


def gated_flow_document(slug: str, count: int, gate: str) -> dict:
    """`count` stage bindings, each gated at plan time: by a group binding (half of them
    negated) or by an expression policy of its own (100 distinct expressions).

    The first is the identification stage, which an anonymous visitor passes; the others are
    deny stages, half kept and half dropped, so the planner really weighs every binding."""
    stages = [
        {"name": f"{slug}-identification", "type": "identification", "options": {}},
        *(
            {"name": f"{slug}-deny-{index}", "type": "deny", "options": {"message": f"No {index}"}}
            for index in range(1, count)
        ),
    ]
    policies, bindings = [], []
    for index, stage in enumerate(stages):
        if gate == "group":
            gates = [{"group": f"bench-group-{index % 5}", "negate": index % 2 == 0}]
        else:
            name = f"{slug}-expression-{index}"
            expression = (
                f"'bench-group-{index % 5}' not in user.groups and "
                f"(request.ip != '10.0.{index // 250}.{index % 250}' or {index % 2} == 0)"
            )
            options = {"expression": expression}
            policies.append({"name": name, "type": "expression", "options": options})
            gates = [{"policy": name, "negate": index % 2 == 1 and index > 0}]
        bindings.append(
            {
                "stage": stage["name"],
                "order": (index + 1) * 10,
                "evaluate_on_plan": True,
                "re_evaluate_policies": False,
                "policies": gates,
            }
        )
    return {
        "version": 1,
        "flow": {
            "slug": slug,
            "name": slug,
            "title": slug,
            "designation": "authentication",
            "stages": bindings,
        },
        "stages": stages,
        "policies": policies,
    }


def gatehouse_environment(database_url: str, folder: Path) -> dict:
    return {
        "IDP_DATABASE_URL": database_url,
        "IDP_SECRET_KEY": SECRET,
        "IDP_INSTANCE_PATH": str(folder / "instance"),
        "IDP_BCRYPT_ROUNDS": str(ROUNDS),
        "IDP_LOGIN_FREE_ATTEMPTS_PER_IP": "100000",
    }


@contextlib.contextmanager
def setting_up(env: dict):
    """An app context on the bench's Gatehouse database, to set it up; its connections are
    closed afterwards (the server under measure opens its own)."""
    from idp import create_app
    from idp.core.extensions import db

    app = create_app({"INSTANCE_PATH": env["IDP_INSTANCE_PATH"], "ENVIRON": env})
    quiet(app)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def prepare_gatehouse(env: dict) -> tuple[dict, str]:
    """Schema and shipped flows as on first start, an administrator, the bench user in one
    of five groups, and the gated flows; returns the flows' slugs."""
    from idp.cli import prepare_instance
    from idp.core.extensions import db
    from idp.identity.accounts import set_password
    from idp.models import Group, User
    from idp.transfer.document import read_document
    from idp.transfer.importer import import_documents

    slugs = {}
    with setting_up(env):
        prepare_instance(echo=lambda *_: None)
        groups = [Group(name=f"bench-group-{index}") for index in range(5)]
        db.session.add_all(groups)
        admin = User(username="bench-admin", email="admin@bench.test", attributes={})
        admin.is_superuser = True
        set_password(admin, PASSWORD)
        user = User(username=USERNAME, email="user@bench.test", attributes={}, groups=groups[:1])
        set_password(user, PASSWORD)
        db.session.add_all([admin, user])
        db.session.commit()
        for gate in GATES:
            for count in BINDING_COUNTS:
                slug = f"bench-{gate}-{count}"
                document = gated_flow_document(slug, count, gate)
                import_documents([(read_document(document, slug), slug)])
                db.session.commit()
                slugs[(gate, count)] = slug
    return slugs


def count_statements(env: dict, slugs: dict) -> dict:
    """SQL statements per request of the sign-in and of each flow start, in this process."""
    from sqlalchemy import event

    from idp import create_app
    from idp.core.extensions import db

    app = create_app({"INSTANCE_PATH": env["IDP_INSTANCE_PATH"], "ENVIRON": env})
    quiet(app)
    with app.app_context():
        engine = db.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(1))
    browser = TestClientBrowser(app, statements)
    gatehouse_sign_in(browser, None)  # warm-up: the first requests fill caches
    browser.counts.clear()
    steps = gatehouse_sign_in(browser, None)
    per_step = dict(zip(steps, browser.counts, strict=True))
    starts = {}
    for (gate, count), slug in slugs.items():
        for _ in range(2):  # the second is what a warm worker does
            flow_start(browser, slug)
        starts[f"{gate}_{count}"] = browser.counts[-1]
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return {"signin": per_step, "signin_total": sum(per_step.values()), "flow_start": starts}


class TestClientBrowser:
    """Browser's interface over Flask's test client, counting SQL statements per request."""

    def __init__(self, app, statements: list):
        self.app = app
        self.statements = statements
        self.counts: list[int] = []
        self.client = app.test_client()
        self.cookies = self  # cookies.clear() starts a fresh cookie jar, as Browser's does

    def clear(self) -> None:
        self.client = self.app.test_client()

    def request(self, method: str, path: str, form=None, headers=None):
        self.statements.clear()
        response = self.client.open(path, method=method, data=form, headers=headers)
        self.counts.append(len(self.statements))
        return response.status_code, response.headers, response.get_data(as_text=True)


# -- one database --------------------------------------------------------------------------


def run_on(kind: str, settings: Settings, folder: Path) -> dict:
    folder = folder / kind
    folder.mkdir()
    databases = []
    if kind == "sqlite":
        gatehouse_url = f"sqlite:///{folder / 'gatehouse.db'}"
        reference_url = f"sqlite:///{folder / 'reference.db'}"
        gatehouse_db = reference_db = None
    else:
        gatehouse_db, gatehouse_url = create_database(settings.database_server)
        databases.append(gatehouse_db)
        reference_db, reference_url = create_database(settings.database_server)
        databases.append(reference_db)
    servers = []
    try:
        env = gatehouse_environment(gatehouse_url, folder)
        progress(f"{kind}: setting up")
        slugs = prepare_gatehouse(env)
        from bench.reference_app import create_schema

        create_schema(reference_url, bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(ROUNDS)))
        statements = count_statements(env, slugs)
        reference_env = {
            "BENCH_REFERENCE_DATABASE_URL": reference_url,
            "BENCH_REFERENCE_SECRET_KEY": SECRET,
        }
        # CPU per request is read from one single-threaded worker in both apps.
        sync = ("--worker-class", "sync", "--threads", "1")
        gatehouse = Gunicorn("wsgi:app", env, folder / "gatehouse.log", extra=sync)
        servers.append(gatehouse)
        reference = Gunicorn(
            "bench.reference_app:app", reference_env, folder / "reference.log", extra=sync
        )
        servers.append(reference)
        for server in servers:
            server.wait_until_ready()
        (gatehouse_worker,) = gatehouse.worker_pids()
        (reference_worker,) = reference.worker_pids()
        memory = {"after_boot": memory_report(gatehouse, reference)}
        ours, theirs = Browser(gatehouse.port), Browser(reference.port)
        for _ in range(settings.warmup):
            pages = flow_pages(gatehouse_sign_in(ours, None))
            gatehouse_sign_out(ours)
            reference_sign_in(theirs, None, pages)
            for slug in slugs.values():
                flow_start(ours, slug)
        memory["after_warmup"] = memory_report(gatehouse, reference)
        progress(f"{kind}: {settings.rounds} interleaved rounds")
        gatehouse_meter = Meter(gatehouse_worker, gatehouse_db)
        reference_meter = Meter(reference_worker, reference_db)
        starts = Meter(gatehouse_worker, gatehouse_db)
        started = time.monotonic()
        gated = list(slugs.items())
        for index in range(settings.rounds):
            for meter in (gatehouse_meter, reference_meter, starts):
                meter.refresh_backends()
            steps = gatehouse_sign_in(ours, gatehouse_meter)
            gatehouse_sign_out(ours)
            reference_sign_in(theirs, reference_meter, flow_pages(steps))
            # Each round starts with another flow: the first request after the sign-ins cost
            # about 0.6 ms more, whichever flow it was.
            shift = index % len(gated)
            for (gate, count), slug in gated[shift:] + gated[:shift]:
                starts.measure(f"{gate}_{count}", lambda slug=slug: flow_start(ours, slug))
        elapsed = time.monotonic() - started
        memory["after_run"] = memory_report(gatehouse, reference)
        ours.close()
        theirs.close()
        if gatehouse.worker_pids() != [gatehouse_worker]:
            raise RuntimeError("the Gatehouse worker was replaced during the run")
        for server in servers:
            server.stop()
        progress(f"{kind}: memory with 1 and 3 workers")
        memory["workers"] = memory_per_worker(env, folder, settings)
    finally:
        for server in servers:
            server.stop()
        for name in databases:
            drop_database(settings.database_server, name)
    return summarize(
        kind, settings, steps, gatehouse_meter, reference_meter, starts, statements, memory
    ) | {
        "database": kind
        if kind == "sqlite"
        else "postgresql " + postgres_version(settings.database_server),
        "measured_s": round(elapsed, 1),
    }


def memory_per_worker(env: dict, folder: Path, settings: Settings) -> dict:
    """Gatehouse's memory with 1 and 3 workers, with and without preload: RSS and PSS of each
    worker after a few sign-ins (and the CPU seconds it spent, to show it served some), and
    the PSS the 2 added workers cost together (master and workers summed), halved. Last, with
    preload and an OpenID Connect application, whose endpoints each worker then also serves
    once (discovery and keys): the libraries they need are loaded only on such a site."""
    variants = [
        ("preload", True, False),
        ("no_preload", False, False),
        ("preload_with_oidc_application", True, True),
    ]
    if settings.quick:  # a smoke run: the last one goes through every step of the others
        variants = variants[-1:]
    result = {}
    for name, preload, with_oidc in variants:
        if with_oidc:
            add_oidc_application(env)
        sizes = {}
        for workers in (1, 3):
            server = Gunicorn(
                "wsgi:app",
                {**env, "GUNICORN_PRELOAD": "1" if preload else "0"},
                folder / "memory.log",
                workers=workers,
            )
            try:
                server.wait_until_ready()
                for _ in range(5 * workers):
                    # A new connection per sign-in, so that every worker gets some of them.
                    with Browser(server.port) as browser:
                        gatehouse_sign_in(browser, None)
                        if with_oidc:
                            fetch_oidc_documents(browser)
                pids = server.worker_pids()
                everything = [server.process.pid, *pids]
                sizes[workers] = {
                    "workers": [
                        memory_of(pid) | {"cpu_s": cpu_ticks(pid) / CLOCK_TICK} for pid in pids
                    ],
                    "master": memory_of(server.process.pid),
                    "total_pss_mib": round(sum(memory_of(pid)["pss_mib"] for pid in everything), 1),
                }
            finally:
                server.stop()
        sizes["pss_mib_per_added_worker"] = round(
            (sizes[3]["total_pss_mib"] - sizes[1]["total_pss_mib"]) / 2, 1
        )
        result[name] = sizes
    return result


OIDC_APPLICATION = "bench-oidc"


def add_oidc_application(env: dict) -> None:
    idp = Path(sys.executable).with_name("idp")
    subprocess.run(
        [str(idp), "apps", "create", OIDC_APPLICATION, "--name", "Bench OIDC", "--oidc",
         "--redirect-uri", "https://app.bench.test/callback"],
        env={**os.environ, **env}, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip


def fetch_oidc_documents(browser: Browser) -> None:
    base = f"/application/o/{OIDC_APPLICATION}/"
    for path in (base + ".well-known/openid-configuration", base + "jwks/"):
        status, _, _ = browser.request("GET", path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")


def memory_report(gatehouse: Gunicorn, reference: Gunicorn) -> dict:
    return {
        "gatehouse_workers": [memory_of(pid) for pid in gatehouse.worker_pids()],
        "gatehouse_master": memory_of(gatehouse.process.pid),
        "reference_workers": [memory_of(pid) for pid in reference.worker_pids()],
    }


def bcrypt_cpu_ms(rounds: int, runs: int) -> float:
    stored = bcrypt.hashpw(b"x" * 44, bcrypt.gensalt(rounds))
    started = time.process_time()
    for _ in range(runs):
        bcrypt.checkpw(b"x" * 44, stored)
    return (time.process_time() - started) * 1000 / runs


def ratio(numerator: float, denominator: float) -> float | None:
    """None when too few rounds ran for the denominator to reach one clock tick."""
    return round(numerator / denominator, 2) if denominator > 0 else None


def summarize(kind, settings, steps, ours: Meter, theirs: Meter, starts: Meter, statements, memory):
    hash4 = bcrypt_cpu_ms(4, 200)
    per_step = {step: ours.ms_per_request(step) for step in steps}
    reference_steps = {step: theirs.ms_per_request(step) for step in theirs.order}
    first_page = theirs.order[0]
    total = sum(per_step.values())
    reference_total = sum(reference_steps.values())
    outside = total - hash4
    reference_outside = reference_total - hash4
    result = {
        "rounds": settings.rounds,
        "signin_requests": len(steps),
        "worker_cpu_ms_per_request": per_step,
        "reference_worker_cpu_ms_per_request": reference_steps,
        "signin_worker_cpu_ms": round(total, 2),
        "signin_worker_cpu_ms_outside_hash": round(outside, 2),
        "reference_signin_worker_cpu_ms_outside_hash": round(reference_outside, 2),
        "signin_ratio_to_reference": ratio(outside, reference_outside),
        "flow_page_worker_cpu_ms": per_step[steps[0]],
        "reference_page_worker_cpu_ms": reference_steps[first_page],
        "flow_page_ratio_to_reference": ratio(per_step[steps[0]], reference_steps[first_page]),
        "bcrypt_cpu_ms": {"cost4": round(hash4, 2)},
        "signin_sql_statements": statements["signin"],
        "signin_sql_statements_total": statements["signin_total"],
        "flow_start_worker_cpu_ms": {
            f"{gate}_{count}": starts.ms_per_request(f"{gate}_{count}")
            for gate in GATES
            for count in BINDING_COUNTS
        },
        "flow_start_sql_statements": statements["flow_start"],
        "memory_mib": memory,
    }
    small, large = BINDING_COUNTS
    for gate in GATES:
        result[f"flow_start_ratio_{large}_vs_{small}_{gate}"] = ratio(
            starts.ms_per_request(f"{gate}_{large}"), starts.ms_per_request(f"{gate}_{small}")
        )
    for rounds in (10, 12):
        check = bcrypt_cpu_ms(rounds, 3 if settings.quick else 5)
        result["bcrypt_cpu_ms"][f"cost{rounds}"] = round(check, 1)
        result[f"projected_signins_per_worker_cpu_second_cost{rounds}"] = {
            "gatehouse": round(1000 / (outside + check), 2),
            "reference": round(1000 / (reference_outside + check), 2),
            "hash_alone": round(1000 / check, 2),
        }
        result[f"overhead_share_of_one_cost{rounds}_check"] = round(outside / check, 3)
    if kind == "postgresql":
        db_total = sum(ours.ms_per_request(step, db=True) for step in steps)
        reference_db = sum(theirs.ms_per_request(step, db=True) for step in theirs.order)
        result["signin_db_cpu_ms"] = round(db_total, 2)
        result["reference_signin_db_cpu_ms"] = round(reference_db, 2)
        result["flow_start_db_cpu_ms"] = {
            step: starts.ms_per_request(step, db=True) for step in starts.order
        }
    return result


def run(settings: Settings) -> dict:
    started = time.perf_counter()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as folder:
        results = {kind: run_on(kind, settings, Path(folder)) for kind in settings.databases}
    return {
        "bench": "signin",
        "quick": settings.quick,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "clock_ticks_per_second": CLOCK_TICK,
        "load_average": {
            "before": [round(value, 2) for value in load_before],
            "after": [round(value, 2) for value in os.getloadavg()],
        },
        "bcrypt_rounds_in_both_apps": ROUNDS,
        **results,
        "notes": {
            "cpu": "nanoseconds the worker's threads ran (/proc/<pid>/task/*/schedstat) around "
            "each request, summed per step over all rounds, divided by the requests; one "
            "gunicorn sync worker each",
            "reference": "bench/reference_app.py: Jinja page, Flask-WTF form, signed cookie, "
            "one ORM query per request, same six-request shape, same gunicorn.conf.py",
            "memory": "workers.* runs Gatehouse with the shipped worker class (gthread)",
            "interleaving": "every round runs one Gatehouse sign-in, one reference sign-in and "
            "one start of each gated flow, in turn",
            "projection": "projected sign-ins per worker CPU-second = 1000 / (CPU outside the "
            "hash + one bcrypt check at that cost measured in the bench process)",
            "machine": "shared machine: compare ratios within one run",
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few rounds: checks the shape")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per database")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql"), action="append", help="default: both"
    )
    arguments = parser.parse_args(argv)
    settings = QUICK if arguments.quick else Settings()
    if arguments.rounds:
        settings = replace(settings, rounds=arguments.rounds)
    if arguments.database:
        settings = replace(settings, databases=tuple(arguments.database))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return run(settings)


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    sys.stdout.write("\n")
