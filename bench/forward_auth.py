"""Forward auth on its hot path: worker CPU per auth-request answer against a static 200 of the
same worker, measured from outside the process (/proc), interleaved, in one run.

Run with `python -m bench.forward_auth [--rounds 2000] [--quick]`. One gunicorn worker with the
shipped gunicorn.conf.py on SQLite; the bench signs in once, then asks
GET /api/authz/auth-request (as nginx's auth_request does: X-Original-URL, the browser's cookie)
and GET /healthz (a static 200) in turns. Prints one JSON document:
- `auth_request_cpu_ms` and `static_cpu_ms`: worker CPU per answer;
- `ratio`: the first over the second;
- `auth_requests_per_worker_cpu_second`: 1000 / auth_request_cpu_ms.
Compare within one run; the absolute numbers depend on the machine and its load.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from bench.signin import (
    Browser,
    Gunicorn,
    Meter,
    gatehouse_environment,
    gatehouse_sign_in,
    prepare_gatehouse,
    setting_up,
)

APP_URL = "https://wiki.bench.test/page?x=1"


def prepare_application(env: dict) -> None:
    """A proxy application for wiki.bench.test that only bench-group-0 may use."""
    from idp.applications.manage import bind, create_application
    from idp.core.extensions import db
    from idp.identity.accounts import find_group

    with setting_up(env):
        created = create_application(
            "wiki", "Wiki", "proxy", {"external_host": "https://wiki.bench.test"}
        )
        bind(created.application, group=find_group("bench-group-0"))
        db.session.commit()


def run(rounds: int, folder: Path) -> dict:
    env = {
        **gatehouse_environment(f"sqlite:///{folder / 'gatehouse.db'}", folder),
        "IDP_TRUSTED_PROXIES": "127.0.0.1",
    }
    prepare_gatehouse(env)
    prepare_application(env)
    server = Gunicorn("wsgi:app", env, folder / "gunicorn.log")
    try:
        server.wait_until_ready()
        [worker] = server.worker_pids()
        meter = Meter(worker, None)
        with Browser(server.port) as browser:
            gatehouse_sign_in(browser, None)
            headers = {"X-Original-URL": APP_URL, "X-Original-Method": "GET"}
            status = browser.request("GET", "/api/authz/auth-request", headers=headers)[0]
            if status != 200:
                raise RuntimeError(f"the signed-in bench user got {status}, not 200")
            for _round in range(rounds):
                meter.measure(
                    "auth_request",
                    lambda: browser.request("GET", "/api/authz/auth-request", headers=headers),
                )
                meter.measure("static", lambda: browser.request("GET", "/healthz"))
    finally:
        server.stop()
    auth_ms = meter.ms_per_request("auth_request")
    static_ms = meter.ms_per_request("static")
    return {
        "bench": "forward_auth",
        "database": "sqlite",
        "rounds": rounds,
        "auth_request_cpu_ms": auth_ms,
        "static_cpu_ms": static_ms,
        "ratio": round(auth_ms / static_ms, 2) if static_ms else None,
        "auth_requests_per_worker_cpu_second": round(1000 / auth_ms, 1) if auth_ms else None,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--quick", action="store_true", help="a short run (200 rounds)")
    arguments = parser.parse_args(argv)
    rounds = 200 if arguments.quick else arguments.rounds
    with tempfile.TemporaryDirectory(prefix="bench-forward-auth-") as folder:
        result = run(rounds, Path(folder))
    json.dump(result, sys.stdout, indent=2)
    print()
    return result


if __name__ == "__main__":
    main()
