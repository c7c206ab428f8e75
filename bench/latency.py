"""Page latency under load, sync workers against gthread workers, with open-loop arrivals.

Run with `make bench-latency` (or `python -m bench.latency [--quick]`). Prints JSON.

Gatehouse runs under gunicorn with the shipped gunicorn.conf.py on a throwaway PostgreSQL
database (BENCH_DATABASE_URL), bcrypt cost 10, two workers, once per worker model:
`sync` (one request at a time per worker) and `gthread` (THREADS threads per worker; bcrypt
releases the GIL, so a page can be served while another thread hashes).

For each model:
1. capacity: a few clients in a closed loop open flow pages (GET /flow/<slug>/ on a fresh
   cookie, the page every sign-in starts with); pages per second.
2. pages at a fixed rate (open loop: requests are sent on a schedule, whatever the answers
   do, and latency counts from the scheduled time, so a stalled server is not hidden) of
   half the smaller of the two models' capacities: p50/p99.
3. the same rate while BURST clients sign in back to back (each sign-in's password check is
   one bcrypt-10 hash, about 60 ms of CPU): p50/p99 of the pages, and the sign-ins done.

The machine is shared: compare the two models within one run.
"""

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from bench.load import create_database, drop_database, postgres_version
from bench.signin import (
    SERVER_URL,
    Browser,
    Gunicorn,
    gatehouse_environment,
    gatehouse_sign_in,
    prepare_gatehouse,
)

PAGE = "/flow/default-authentication-flow/"
MODELS = {"sync": ("--worker-class", "sync"), "gthread": ("--worker-class", "gthread")}
THREADS = 4
WORKERS = 2


@dataclass(frozen=True)
class Settings:
    capacity_s: float = 6.0
    phase_s: float = 15.0
    capacity_clients: int = 6
    burst_clients: int = 4
    bcrypt_rounds: int = 10
    database_server: str = SERVER_URL
    quick: bool = False


QUICK = Settings(capacity_s=2.0, phase_s=3.0, quick=True)


def progress(message: str) -> None:
    print(f"bench.latency: {message}", file=sys.stderr, flush=True)


def open_page(port: int) -> None:
    with Browser(port) as browser:
        status = browser.request("GET", PAGE)[0]
    if status != 200:
        raise RuntimeError(f"GET {PAGE}: {status}")


def capacity(port: int, settings: Settings) -> float:
    """Pages per second with a few clients in a closed loop."""
    done = []
    stop = time.monotonic() + settings.capacity_s

    def client():
        while time.monotonic() < stop:
            open_page(port)
            done.append(1)

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(settings.capacity_clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / (time.monotonic() - started)


def open_loop(port: int, rate: float, seconds: float, burst: int) -> dict:
    """Pages sent on a fixed schedule; `burst` clients signing in meanwhile."""
    latencies, errors, signins = [], [], []
    stop = threading.Event()

    def sign_in_loop():
        with Browser(port) as browser:
            sign_in_until(browser, stop)

    def sign_in_until(browser, stop):
        while not stop.is_set():
            try:
                gatehouse_sign_in(browser, None)
                signins.append(1)
            except Exception as error:  # counted; the burst goes on
                errors.append(f"sign-in: {error}")

    def timed_page(scheduled: float):
        try:
            open_page(port)
            latencies.append(time.monotonic() - scheduled)
        except Exception as error:  # counted, not raised: the schedule goes on
            errors.append(type(error).__name__)

    signers = [threading.Thread(target=sign_in_loop) for _ in range(burst)]
    for thread in signers:
        thread.start()
    if burst:
        time.sleep(0.5)  # the sign-ins are under way before the pages are timed
    interval = 1 / rate
    with ThreadPoolExecutor(max_workers=64) as pool:
        start = time.monotonic()
        count = int(seconds * rate)
        for number in range(count):
            scheduled = start + number * interval
            delay = scheduled - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            pool.submit(timed_page, scheduled)
    stop.set()
    for thread in signers:
        thread.join()
    ordered = sorted(latencies)

    def at(share):
        return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000, 1)

    result = {
        "pages": len(ordered),
        "p50_ms": at(0.5),
        "p90_ms": at(0.9),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 1),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }
    if burst:
        result["signins_during_phase"] = len(signins)
    return result


def run(settings: Settings) -> dict:
    started = time.perf_counter()
    load_before = os.getloadavg()
    name, url = create_database(settings.database_server)
    results, capacities = {}, {}
    try:
        with tempfile.TemporaryDirectory(prefix="gatehouse-latency-") as folder:
            folder = Path(folder)
            env = gatehouse_environment(url, folder) | {
                "IDP_BCRYPT_ROUNDS": str(settings.bcrypt_rounds),
                # One account signs in from several clients at once: no throttle here.
                "IDP_LOGIN_FREE_ATTEMPTS": "1000",
            }
            progress("setting up")
            prepare_gatehouse(env)
            servers = {}
            try:
                for model, flags in MODELS.items():
                    extra = (*flags, "--threads", str(THREADS if model == "gthread" else 1))
                    server = Gunicorn(
                        "wsgi:app", env, folder / f"{model}.log", workers=WORKERS, extra=extra
                    )
                    servers[model] = server
                    server.wait_until_ready()
                    for _ in range(3):
                        with Browser(server.port) as browser:
                            gatehouse_sign_in(browser, None)
                    progress(f"{model}: capacity")
                    capacities[model] = capacity(server.port, settings)
                rate = 0.5 * min(capacities.values())
                for model, server in servers.items():
                    progress(f"{model}: {rate:.1f} pages/s, then with sign-ins")
                    results[model] = {
                        "capacity_pages_per_second": round(capacities[model], 1),
                        "pages_only": open_loop(server.port, rate, settings.phase_s, 0),
                        "pages_during_signins": open_loop(
                            server.port, rate, settings.phase_s, settings.burst_clients
                        ),
                    }
            finally:
                for server in servers.values():
                    server.stop()
    finally:
        drop_database(settings.database_server, name)
    return {
        "bench": "latency",
        "quick": settings.quick,
        "database": "postgresql " + postgres_version(settings.database_server),
        "cpu_count": os.cpu_count(),
        "load_average": {
            "before": [round(value, 2) for value in load_before],
            "after": [round(value, 2) for value in os.getloadavg()],
        },
        "workers": WORKERS,
        "gthread_threads": THREADS,
        "bcrypt_rounds": settings.bcrypt_rounds,
        "arrival_rate_pages_per_second": round(rate, 1),
        "burst_clients": settings.burst_clients,
        "phase_s": settings.phase_s,
        **results,
        "notes": {
            "rate": "half the smaller capacity of the two models, the same for both",
            "latency": "from the scheduled send time to the whole answer read",
            "machine": "shared machine: compare the models within one run",
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few seconds per phase")
    parser.add_argument("--phase", type=float, help="seconds per open-loop phase")
    arguments = parser.parse_args(argv)
    settings = QUICK if arguments.quick else Settings()
    if arguments.phase:
        settings = replace(settings, phase_s=arguments.phase)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    return run(settings)


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    sys.stdout.write("\n")
