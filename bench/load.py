"""Gatehouse under load: gunicorn on PostgreSQL, driven by an asyncio client.

Run with `make bench-load` (or `python -m bench.load [--quick]`). Prints one JSON document.
Everything runs in a throwaway environment: a fresh database on the PostgreSQL server at
BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/postgres; the
database is created, set up as `idp run` does on first start, and dropped afterwards),
bcrypt cost 10, and the shipped gunicorn.conf.py with explicit worker counts.

- `signins_per_second_per_worker`: whole password sign-ins (GET the page, POST the name,
  GET the password page, POST the password, GET the landing page) that one gunicorn worker
  completes per second, with a few clients keeping it busy; against Keycloak's published
  sizing of 15 password sign-ins per second per vCPU. `signins_per_worker_cpu_second`
  divides by the worker's CPU time instead of the wall clock (one busy core, whatever else
  runs), next to the ceiling that bcrypt alone sets at this cost.
- `latency_ms`: p50/p95/p99 of each HTTP step of that flow (plus two other flow pages)
  under 50 concurrent clients against 2 workers.
- `memory`: RSS (and PSS) of each worker after boot, after 5,000 and after 20,000 requests
  of that mix, with worker recycling (max_requests) off; against authentik (~735 MiB idle)
  and Authelia (claims under 30 MB).

Each client signs in as its own user with a fresh cookie jar each time, so the per-account
throttle never applies; the per-IP one is raised, as every client comes from 127.0.0.1.
"""

import argparse
import asyncio
import hashlib
import json
import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import sqlalchemy as sa

# How the README's production command starts gunicorn: without docstrings (4.7 MiB of each
# process).
AS_DEPLOYED = {"PYTHONOPTIMIZE": "2"}

ROOT = Path(__file__).resolve().parent.parent
SERVER_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SECRET = "bench-secret-key-that-is-long-enough-for-gatehouse"
PASSWORD = "correct horse battery staple"
SIGNIN_FLOW = "/flow/default-authentication-flow/"
OTHER_PAGES = {
    "GET enrollment page": "/flow/default-enrollment-flow/",
    "GET recovery page": "/flow/default-recovery-flow/",
}
SIGNIN_STEPS = (
    "GET identification page",
    "POST identification",
    "GET password page",
    "POST password",
    "GET landing page",
)
KEYCLOAK_SIGNINS_PER_VCPU = 15  # password sign-ins per second, Keycloak's sizing guide
AUTHENTIK_IDLE_MIB = 735
AUTHELIA_CLAIMED_MB = 30
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


@dataclass(frozen=True)
class Settings:
    bcrypt_rounds: int = 10
    # Sign-ins per second of one worker: a few clients keep it busy (a sync worker serves
    # one request at a time; more clients only queue).
    throughput_clients: int = 4
    throughput_warmup_s: float = 3.0
    throughput_s: float = 20.0
    # Latency and memory: 50 clients, 2 workers, the sign-in and two other flow pages.
    workers: int = 2
    clients: int = 50
    checkpoints: tuple[int, ...] = (5000, 20000)
    quick: bool = False
    database_server: str = SERVER_URL


QUICK = Settings(throughput_warmup_s=1.0, throughput_s=5.0, checkpoints=(500, 2000), quick=True)


# -- the throwaway environment ---------------------------------------------------------------


def create_database(server_url: str) -> tuple[str, str]:
    """A fresh, empty database; its name and URL."""
    server = sa.engine.make_url(server_url)
    name = f"bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, server.set(database=name).render_as_string(hide_password=False)


def drop_database(server_url: str, name: str) -> None:
    server = sa.engine.make_url(server_url)
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def settings_environment(database_url: str, folder: Path, rounds: int) -> dict:
    """The IDP_* settings of the server (and of the set-up, which uses the same app)."""
    return {
        "IDP_DATABASE_URL": database_url,
        "IDP_SECRET_KEY": SECRET,
        "IDP_INSTANCE_PATH": str(folder / "instance"),
        "IDP_BCRYPT_ROUNDS": str(rounds),
        # Every client comes from 127.0.0.1 and up to 50 attempts are in flight at once:
        # the per-IP throttle counts an attempt until its success gives it back.
        "IDP_LOGIN_FREE_ATTEMPTS_PER_IP": "100000",
    }


def prepare(env: dict, usernames: list[str]) -> None:
    """Schema and shipped flows as `idp run` does on first start, an administrator (so the
    instance is set up) and the bench users, all with one password hash made at the cost
    the server uses."""
    from idp import create_app
    from idp.cli import prepare_instance
    from idp.core.extensions import db
    from idp.identity.accounts import set_password
    from idp.identity.site_settings import change_setting
    from idp.models import User

    app = create_app({"INSTANCE_PATH": env["IDP_INSTANCE_PATH"], "ENVIRON": env})
    with app.app_context():
        prepare_instance(echo=lambda *_: None)
        # The mix opens the sign-up page, which a fresh install keeps closed.
        change_setting("enrollment", "on")
        admin = User(username="bench-admin", email="admin@bench.test", attributes={})
        admin.is_superuser = True
        set_password(admin, PASSWORD)
        db.session.add(admin)
        db.session.add_all(
            User(
                username=name,
                email=f"{name}@bench.test",
                attributes={},
                password_hash=admin.password_hash,
                password_changed_at=admin.password_changed_at,
            )
            for name in usernames
        )
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def progress(message: str) -> None:
    print(f"bench.load: {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with the shipped configuration, `workers` sync workers, no recycling."""

    def __init__(self, env: dict, workers: int, log_path: Path):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log_path.open("ab")
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--max-requests",
            "0",  # a recycled worker would hide memory growth
            "wsgi:app",
        ]
        if not (ROOT / "gunicorn.conf.py").exists():
            command[1:1] = ["--access-logfile", "-"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, **AS_DEPLOYED, **env},
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.workers = workers

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                ready = httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200
            except httpx.TransportError:
                ready = False
            if ready and len(self.worker_pids()) == self.workers:
                time.sleep(1.0)  # let every worker finish loading the app
                return
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not become ready")

    def worker_pids(self) -> list[int]:
        return children_of(self.process.pid)

    def stop(self) -> None:
        stop_gracefully(self.process)
        self.log.close()


def children_of(parent: int) -> list[int]:
    """The processes whose parent is `parent` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid …; comm may hold spaces, so split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return sorted(found)


def stop_gracefully(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn finishes its requests), SIGKILL after 15 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def memory_of(pid: int) -> dict:
    """RSS and PSS of one process, in MiB (PSS shares the pages common to the workers)."""
    values = {}
    for name, key in (("status", "VmRSS"), ("smaps_rollup", "Pss")):
        try:
            for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
                if line.startswith(f"{key}:"):
                    values[key] = int(line.split()[1])
        except OSError:
            pass
    return {
        "rss_mib": round(values.get("VmRSS", 0) / 1024, 1),
        "pss_mib": round(values.get("Pss", 0) / 1024, 1),
    }


def cpu_seconds_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the load generator ----------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw, shared by all of them (one event loop, no locks needed)."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    requests: int = 0
    signins: list[float] = field(default_factory=list)  # monotonic end time of each
    errors: dict[str, int] = field(default_factory=dict)
    on_request: object = None

    def add(self, step: str, seconds: float) -> None:
        self.samples.setdefault(step, []).append(seconds)
        self.requests += 1
        if self.on_request is not None:
            self.on_request(self.requests)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class UnexpectedAnswer(Exception):
    pass


async def timed(tally: Tally, step: str, call, expected: int) -> httpx.Response:
    started = time.perf_counter()
    response = await call
    tally.add(step, time.perf_counter() - started)
    if response.status_code != expected:
        raise UnexpectedAnswer(f"{step}: {response.status_code}")
    return response


def csrf_token(response: httpx.Response) -> str:
    found = CSRF.search(response.text)
    if found is None:
        raise UnexpectedAnswer("no CSRF token on the page")
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, username: str, tally: Tally) -> None:
    """One whole sign-in on a fresh cookie jar, each HTTP step timed on its own."""
    client.cookies.clear()
    page = await timed(tally, SIGNIN_STEPS[0], client.get(SIGNIN_FLOW), 200)
    answer = await timed(
        tally,
        SIGNIN_STEPS[1],
        client.post(SIGNIN_FLOW, data={"uid_field": username, "csrf_token": csrf_token(page)}),
        303,
    )
    page = await timed(tally, SIGNIN_STEPS[2], client.get(answer.headers["Location"]), 200)
    answer = await timed(
        tally,
        SIGNIN_STEPS[3],
        client.post(SIGNIN_FLOW, data={"password": PASSWORD, "csrf_token": csrf_token(page)}),
        303,
    )
    landing = answer.headers["Location"]
    if landing.startswith("/flow/"):
        raise UnexpectedAnswer(f"the sign-in did not finish ({landing})")
    await timed(tally, SIGNIN_STEPS[4], client.get(landing), 200)  # /me
    tally.signins.append(time.monotonic())


async def browse(client: httpx.AsyncClient, tally: Tally) -> None:
    """Other flow pages a stranger opens (sign up, forgot password)."""
    for step, path in OTHER_PAGES.items():
        client.cookies.clear()
        await timed(tally, step, client.get(path), 200)


async def run_client(base_url, username, tally, stop, mix: bool) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        while not stop.is_set():
            try:
                await sign_in(client, username, tally)
                if mix:
                    await browse(client, tally)
            except UnexpectedAnswer as error:
                tally.error(str(error))
            except httpx.HTTPError as error:
                tally.error(type(error).__name__)


async def drive(base_url, usernames, tally, until, mix) -> None:
    """Run one client per user until `until(tally)` says stop (checked every 50 ms)."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(run_client(base_url, name, tally, stop, mix)) for name in usernames
    ]
    while not until(tally):
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks)


# -- measurements ----------------------------------------------------------------------------


def bcrypt_check_ms(rounds: int, runs: int = 5) -> float:
    """CPU time of one password check at this cost (median), comparable with the worker's
    CPU time: the ceiling of a worker that did nothing but check passwords."""
    import bcrypt

    stored = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds))
    samples = []
    for _ in range(runs):
        started = time.process_time()
        bcrypt.checkpw(PASSWORD.encode(), stored)
        samples.append(time.process_time() - started)
    return sorted(samples)[runs // 2] * 1000


def keycloak_hash_ms(runs: int = 5) -> float:
    """CPU time of Keycloak's default password hash (PBKDF2-HMAC-SHA512, 210,000 iterations,
    since Keycloak 24) on this machine, through OpenSSL: what its published sizing pays per
    sign-in before anything else, here."""
    samples = []
    for _ in range(runs):
        started = time.process_time()
        hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), b"sixteen byte salt", 210_000)
        samples.append(time.process_time() - started)
    return sorted(samples)[runs // 2] * 1000


def percentiles_ms(samples: list[float]) -> dict:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)

    return {"count": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def measure_throughput(env, folder, usernames, settings: Settings) -> dict:
    """Sign-ins per second of one worker, counted over a window after a warm-up."""
    progress(f"sign-ins per second of one worker, {len(usernames)} clients")
    server = Server(env, 1, folder / "gunicorn-1.log")
    try:
        server.wait_until_ready()
        (worker,) = server.worker_pids()
        tally = Tally()
        window = {}

        def until(tally: Tally) -> bool:
            now = time.monotonic()
            if "start" not in window and now - started >= settings.throughput_warmup_s:
                window.update(start=now, cpu=cpu_seconds_of(worker), client=time.process_time())
            if "start" in window and now - window["start"] >= settings.throughput_s:
                window.update(
                    end=now, cpu_end=cpu_seconds_of(worker), client_end=time.process_time()
                )
                return True
            return False

        started = time.monotonic()
        asyncio.run(drive(server.base_url, usernames, tally, until, mix=False))
    finally:
        server.stop()
    span = window["end"] - window["start"]
    done = sum(window["start"] <= moment <= window["end"] for moment in tally.signins)
    per_second = done / span
    worker_cpu = window["cpu_end"] - window["cpu"]
    per_cpu_second = done / worker_cpu if worker_cpu else 0.0
    bcrypt_ms = bcrypt_check_ms(settings.bcrypt_rounds)
    keycloak_ms = keycloak_hash_ms()
    return {
        "signins_per_second_per_worker": round(per_second, 2),
        # What one fully busy core would do: the worker's own CPU time, not the wall clock,
        # so it holds when other processes share the machine (PostgreSQL's CPU not counted).
        "signins_per_worker_cpu_second": round(per_cpu_second, 2),
        "keycloak_signins_per_second_per_vcpu": KEYCLOAK_SIGNINS_PER_VCPU,
        "ratio_to_keycloak": round(per_second / KEYCLOAK_SIGNINS_PER_VCPU, 2),
        "ratio_to_keycloak_per_cpu_second": round(per_cpu_second / KEYCLOAK_SIGNINS_PER_VCPU, 2),
        f"bcrypt_check_ms_cost{settings.bcrypt_rounds}": round(bcrypt_ms, 1),
        "bcrypt_only_ceiling_per_cpu_second": round(1000 / bcrypt_ms, 2),
        # Keycloak's own hash, alone, on this machine: its sign-ins per vCPU cannot exceed this
        # here, whatever the rest of Keycloak costs.
        "keycloak_hash_ms_here": round(keycloak_ms, 1),
        "keycloak_hash_only_ceiling_per_cpu_second": round(1000 / keycloak_ms, 2),
        "worker_cpu_ms_per_signin": round(worker_cpu * 1000 / done, 1) if done else None,
        "throughput_window_s": round(span, 1),
        "throughput_signins_counted": done,
        "throughput_clients": len(usernames),
        "worker_cpu_share_during_window": round((window["cpu_end"] - window["cpu"]) / span, 2),
        "load_generator_cpu_share_during_window": round(
            (window["client_end"] - window["client"]) / span, 2
        ),
        "throughput_errors": tally.errors,
    }


def measure_latency_and_memory(env, folder, usernames, settings: Settings) -> dict:
    """50 clients against 2 workers: per-step latency, and worker memory at checkpoints."""
    progress(
        f"latency and memory: {len(usernames)} clients, {settings.workers} workers, "
        f"{settings.checkpoints[-1]} requests"
    )
    server = Server(env, settings.workers, folder / "gunicorn-2.log")
    memory = {}
    try:
        server.wait_until_ready()
        pids = server.worker_pids()
        memory["after_boot"] = [memory_of(pid) for pid in pids]
        pending = list(settings.checkpoints)
        tally = Tally()

        def checkpoint(requests: int) -> None:
            if pending and requests >= pending[0]:
                memory[f"after_{pending.pop(0)}_requests"] = [memory_of(pid) for pid in pids]

        tally.on_request = checkpoint
        client_cpu = time.process_time()
        started = time.monotonic()
        asyncio.run(drive(server.base_url, usernames, tally, lambda t: not pending, mix=True))
        elapsed = time.monotonic() - started
        client_cpu = time.process_time() - client_cpu
        if server.worker_pids() != pids:
            raise RuntimeError("a gunicorn worker was replaced during the run")
    finally:
        server.stop()
    first, last = settings.checkpoints[0], settings.checkpoints[-1]
    growth = [
        round(after["rss_mib"] - before["rss_mib"], 1)
        for before, after in zip(
            memory[f"after_{first}_requests"], memory[f"after_{last}_requests"], strict=True
        )
    ]
    largest = max(sample["rss_mib"] for sample in memory[f"after_{last}_requests"])
    steps = (*SIGNIN_STEPS, *OTHER_PAGES)
    return {
        "latency_clients": len(usernames),
        "latency_workers": settings.workers,
        "latency_ms": {step: percentiles_ms(tally.samples[step]) for step in steps},
        "signins_per_second_2_workers_50_clients": round(len(tally.signins) / elapsed, 2),
        "requests_per_second_2_workers_50_clients": round(tally.requests / elapsed, 1),
        "load_generator_cpu_share": round(client_cpu / elapsed, 2),
        "latency_errors": tally.errors,
        "memory_mib": memory,
        f"rss_growth_mib_{first}_to_{last}_requests": growth,
        "largest_worker_rss_mib": largest,
        "authentik_idle_mib": AUTHENTIK_IDLE_MIB,
        "authelia_claimed_mb": AUTHELIA_CLAIMED_MB,
        "largest_worker_share_of_authentik_idle": round(largest / AUTHENTIK_IDLE_MIB, 3),
    }


def run(settings: Settings) -> dict:
    started = time.perf_counter()
    usernames = [f"bench-{index:03d}" for index in range(settings.clients)]
    name, url = create_database(settings.database_server)
    try:
        with tempfile.TemporaryDirectory(prefix="gatehouse-load-") as folder:
            folder = Path(folder)
            env = settings_environment(url, folder, settings.bcrypt_rounds)
            prepare(env, usernames)
            result = measure_throughput(
                env, folder, usernames[: settings.throughput_clients], settings
            )
            result |= measure_latency_and_memory(env, folder, usernames, settings)
    finally:
        drop_database(settings.database_server, name)
    return {
        "bench": "load",
        "quick": settings.quick,
        "python": platform.python_version(),
        "gunicorn_config": "gunicorn.conf.py" if (ROOT / "gunicorn.conf.py").exists() else None,
        "database": "postgresql " + postgres_version(settings.database_server),
        "database_name": name,
        "cpu_count": os.cpu_count(),
        "load_average_at_end": [round(value, 2) for value in os.getloadavg()],
        "bcrypt_rounds": settings.bcrypt_rounds,
        **result,
        "notes": {
            "signin": "GET page, POST identification, GET password page, POST password, "
            "GET /me; a fresh cookie jar per sign-in, one user per client",
            "mix": "in the latency and memory run each client also opens the enrollment and "
            "recovery flow pages after every sign-in",
            "machine": "the load generator, PostgreSQL and gunicorn share this machine's CPUs; "
            "see the *_cpu_share figures (1.0 = one core busy)",
            "throughput_window": "sign-ins completed in the window after the warm-up",
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def postgres_version(server_url: str) -> str:
    engine = sa.create_engine(server_url)
    with engine.connect() as connection:
        version = connection.execute(sa.text("SHOW server_version")).scalar()
    engine.dispose()
    return str(version).split()[0]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    parser.add_argument("--clients", type=int, help="concurrent clients (default 50)")
    arguments = parser.parse_args(argv)
    settings = QUICK if arguments.quick else Settings()
    if arguments.clients:
        settings = replace(settings, clients=arguments.clients)
    # A stopped run (Ctrl-C, `timeout`) still stops gunicorn and drops its database.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return run(settings)


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    sys.stdout.write("\n")
