"""How much a sign-in costs besides the password hash, and how plan cost grows with a flow.

Run with `make bench` (or `python -m bench.signin`). Prints one JSON document on stdout.
Everything is measured in the same run, on SQLite in a temporary folder, with the real app:

- `bcrypt_check_ms_cost12`: one password check at bcrypt cost 12 (the production default).
- `signin_total_ms_cost4`: a whole sign-in through the test client with BCRYPT_ROUNDS=4
  (GET the flow, POST identification, POST password, up to the redirect out of the flow).
- `signin_engine_overhead_ms`: that sign-in minus one cost-4 check, i.e. everything but the hash.
- `engine_overhead_share_of_bcrypt12`: overhead / cost-12 check, the headline ratio.
- `flow_start_ms_*_bindings`: GET /flow/<slug>/ on a fresh client for a flow whose N stage
  bindings are each gated by a group and a user policy binding, evaluated at plan time,
  with the SQL statement count of one such request.

Medians throughout; absolute times depend on the machine, ratios much less so.
"""

import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from urllib.parse import urlsplit

import bcrypt
import sqlalchemy as sa
from sqlalchemy import event

from idp import create_app
from idp.accounts import set_password
from idp.extensions import db
from idp.models import Group, User
from idp.passwords import check_password, hash_password
from idp.transfer.document import load_file, read_document
from idp.transfer.importer import import_documents

SHIPPED_FLOWS = Path(__file__).resolve().parent.parent / "flows"
SECRET = "bench-secret-key-that-is-long-enough-for-gatehouse"
USERNAME = "bench-user"
PASSWORD = "correct horse battery staple"
SIGNIN_FLOW = "default-authentication-flow"

SIGNIN_RUNS = int(os.environ.get("BENCH_SIGNIN_RUNS", "50"))
BCRYPT12_EVERY = 3  # one cost-12 check every third sign-in round
BCRYPT4_PER_ROUND = 4  # cost-4 checks per round, timed together (each is about 1 ms)
FLOW_START_RUNS = int(os.environ.get("BENCH_FLOW_START_RUNS", "50"))
WARMUP_RUNS = 3
BINDING_COUNTS = (3, 100)


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        self.count += 1


def make_app(folder: Path, rounds: int):
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(folder / "instance"),
            "SECRET_KEY": SECRET,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "BCRYPT_ROUNDS": rounds,
        }
    )
    # One log line per event would swamp stderr; the bench reports on stdout only.
    logging.getLogger("idp").setLevel(logging.WARNING)
    return app


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def median_ms(samples) -> float:
    return ms(statistics.median(samples))


def timed(action, runs: int, warmup: int = WARMUP_RUNS) -> list[float]:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return samples


# -- set-up ------------------------------------------------------------------------------------


def load_shipped_flows() -> None:
    paths = sorted(str(path) for path in SHIPPED_FLOWS.glob("*.yaml"))
    import_documents([(read_document(load_file(path), path), path) for path in paths])
    db.session.commit()


def make_user(username: str, groups=()) -> User:
    user = User(
        username=username,
        email=f"{username}@example.test",
        attributes={},
        groups=list(groups),
    )
    set_password(user, PASSWORD)
    db.session.add(user)
    db.session.commit()
    return user


def gated_flow_document(slug: str, count: int, groups: list[str], user: str) -> dict:
    """`count` stage bindings, each gated by a group and a user policy binding at plan time.

    The first is an identification stage whose gate lets anonymous visitors through (a negated
    group binding); the others are deny stages, half of them kept and half dropped for an
    anonymous visitor, so the planner really evaluates every binding.
    """
    stages = [
        {
            "name": f"{slug}-identification",
            "type": "identification",
            "options": {"user_fields": ["username", "email"]},
        }
    ]
    stages += [
        {"name": f"{slug}-deny-{index}", "type": "deny", "options": {"message": f"No {index}"}}
        for index in range(1, count)
    ]
    bindings = []
    for index, stage in enumerate(stages):
        group = groups[index % len(groups)]
        bindings.append(
            {
                "stage": stage["name"],
                "order": (index + 1) * 10,
                "evaluate_on_plan": True,
                "re_evaluate_policies": False,
                "policy_engine_mode": "any",
                "policies": [
                    {"group": group, "order": 0, "negate": index % 2 == 0},
                    {"user": user, "order": 1},
                ],
            }
        )
    return {
        "version": 1,
        "flow": {
            "slug": slug,
            "name": slug,
            "title": slug,
            "designation": "authentication",
            "policies": [],
            "stages": bindings,
        },
        "stages": stages,
        "policies": [],
    }


def set_up(app) -> dict[int, str]:
    """Schema, shipped flows, the bench user, and one gated flow per binding count."""
    with app.app_context():
        db.create_all()
        load_shipped_flows()
        groups = [Group(name=f"bench-group-{index}") for index in range(5)]
        db.session.add_all(groups)
        db.session.commit()
        make_user(USERNAME, groups=groups[:1])
        make_user("bench-gate-user")
        slugs = {}
        for count in BINDING_COUNTS:
            slug = f"bench-gated-{count}"
            document = gated_flow_document(
                slug, count, [group.name for group in groups], "bench-gate-user"
            )
            import_documents([(read_document(document, slug), slug)])
            db.session.commit()
            slugs[count] = slug
    return slugs


# -- measurements ------------------------------------------------------------------------------


def password_check(app, rounds: int):
    """A callable doing one check_password against a hash made at this cost."""
    with app.app_context():
        stored = hash_password(PASSWORD, rounds=rounds)

    def check():
        with app.app_context():
            if not check_password(PASSWORD, stored):
                raise RuntimeError("check_password refused the right password")

    return check


def interleaved_samples(actions: dict, every: dict, rounds: int) -> dict[str, list[float]]:
    """Time each action in turn, round after round, so that a change in machine load during
    the run (other processes, CPU frequency) hits every measurement alike and the ratios stay
    fair. `every[name]` runs that action only on every n-th round (the slow cost-12 check)."""
    for action in actions.values():
        action()  # warm-up
    samples = {name: [] for name in actions}
    for number in range(rounds):
        for name, action in actions.items():
            if number % every.get(name, 1):
                continue
            started = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - started)
    return samples


CSRF_MARK = 'name="csrf_token" type="hidden" value="'


def csrf_token(response) -> str:
    html = response.get_data(as_text=True)
    start = html.index(CSRF_MARK) + len(CSRF_MARK)
    return html[start : html.index('"', start)]


def follow_within_flow(client, response):
    """Follow the post/redirect/get 303 while it stays inside the flow."""
    while response.status_code == 303:
        location = response.headers["Location"]
        if not urlsplit(location).path.startswith("/flow/"):
            return response
        response = client.get(location)
    return response


def sign_in(app) -> str:
    """One whole sign-in on a fresh cookie jar; returns where the flow sends the user."""
    client = app.test_client()
    url = f"/flow/{SIGNIN_FLOW}/"
    page = client.get(url)
    answer = client.post(url, data={"uid_field": USERNAME, "csrf_token": csrf_token(page)})
    page = follow_within_flow(client, answer)
    answer = client.post(url, data={"password": PASSWORD, "csrf_token": csrf_token(page)})
    final = follow_within_flow(client, answer)
    if final.status_code != 303:
        raise RuntimeError(f"sign-in did not finish: {final.status_code}")
    return final.headers["Location"]


def check_sign_in_works(app) -> None:
    client = app.test_client()
    url = f"/flow/{SIGNIN_FLOW}/"
    page = client.get(url)
    answer = client.post(url, data={"uid_field": USERNAME, "csrf_token": csrf_token(page)})
    page = follow_within_flow(client, answer)
    answer = client.post(url, data={"password": PASSWORD, "csrf_token": csrf_token(page)})
    follow_within_flow(client, answer)
    me = client.get("/me")
    if me.status_code != 200 or USERNAME not in me.get_data(as_text=True):
        raise RuntimeError("the bench sign-in did not sign the user in")


def flow_start(app, slug: str) -> None:
    response = app.test_client().get(f"/flow/{slug}/")
    if response.status_code != 200:
        raise RuntimeError(f"GET /flow/{slug}/ answered {response.status_code}")


def count_queries(app, action) -> int:
    """SQL statements sent while `action` runs (one request or several)."""
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return counter.count


def main() -> dict:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as folder:
        app = make_app(Path(folder), rounds=4)
        slugs = set_up(app)

        check_sign_in_works(app)
        for _ in range(WARMUP_RUNS):
            sign_in(app)
        check4 = password_check(app, 4)
        measured = interleaved_samples(
            {
                "signin": lambda: sign_in(app),
                "bcrypt4": lambda: [check4() for _ in range(BCRYPT4_PER_ROUND)],
                "bcrypt12": password_check(app, 12),
            },
            every={"bcrypt12": BCRYPT12_EVERY},
            rounds=SIGNIN_RUNS,
        )
        signin = measured["signin"]
        bcrypt4 = [sample / BCRYPT4_PER_ROUND for sample in measured["bcrypt4"]]
        bcrypt12 = measured["bcrypt12"]

        signin_sql = count_queries(app, lambda: sign_in(app))

        flow_start_ms, flow_start_sql = {}, {}
        for slug in slugs.values():
            timed(lambda s=slug: flow_start(app, s), 0)  # warm-up only
        # Interleave the two flows so drift in machine speed hits both alike.
        samples = {count: [] for count in slugs}
        for _ in range(FLOW_START_RUNS):
            for count, slug in slugs.items():
                samples[count].extend(timed(lambda s=slug: flow_start(app, s), 1, warmup=0))
        for count, slug in slugs.items():
            flow_start_ms[count] = median_ms(samples[count])
            flow_start_sql[count] = count_queries(app, lambda s=slug: flow_start(app, s))

        with app.app_context():
            db.session.remove()
            db.engine.dispose()

    bcrypt12_ms = median_ms(bcrypt12)
    bcrypt4_ms = median_ms(bcrypt4)
    signin_ms = median_ms(signin)
    overhead_ms = round(signin_ms - bcrypt4_ms, 3)
    small, large = BINDING_COUNTS
    return {
        "bench": "signin",
        "python": platform.python_version(),
        "bcrypt": bcrypt.__version__,
        "flask": metadata.version("flask"),
        "sqlalchemy": sa.__version__,
        "database": "sqlite (temporary file)",
        "cpu_count": os.cpu_count(),
        "runs": {
            "signin": SIGNIN_RUNS,
            "bcrypt_cost12": len(bcrypt12),
            "bcrypt_cost4": len(bcrypt4) * BCRYPT4_PER_ROUND,
            "flow_start": FLOW_START_RUNS,
            "warmup": WARMUP_RUNS,
        },
        "bcrypt_check_ms_cost12": bcrypt12_ms,
        "bcrypt_check_ms_cost4": bcrypt4_ms,
        "signin_total_ms_cost4": signin_ms,
        "signin_engine_overhead_ms": overhead_ms,
        "signin_requests": 5,
        "signin_sql_queries": signin_sql,
        "engine_overhead_share_of_bcrypt12": round(overhead_ms / bcrypt12_ms, 4),
        f"flow_start_ms_{small}_bindings": flow_start_ms[small],
        f"flow_start_ms_{large}_bindings": flow_start_ms[large],
        f"flow_start_ratio_{large}_vs_{small}": round(
            flow_start_ms[large] / flow_start_ms[small], 3
        ),
        f"flow_start_sql_queries_{small}_bindings": flow_start_sql[small],
        f"flow_start_sql_queries_{large}_bindings": flow_start_sql[large],
        "notes": {
            "interleaving": "sign-ins, cost-4 and cost-12 checks are timed in turn in the "
            "same loop, so load changes during the run affect all of them alike",
            "signin": "GET flow, POST identification (+303 GET), POST password (+303 GET) up to "
            "the 303 out of the flow; fresh test client per run; median",
            "flow_start": "GET /flow/<slug>/ on a fresh client; every stage binding gated by a "
            "group and a user policy binding evaluated at plan time; median",
        },
        "elapsed_s": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    json.dump(main(), sys.stdout, indent=2)
    sys.stdout.write("\n")
