"""bench/signin.py in miniature, so it cannot rot: both apps under gunicorn, one round,
every figure present; on PostgreSQL too when IDP_TEST_DATABASE_URL is set."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.signin import BINDING_COUNTS, GATES, Settings, run
from tests.conftest import POSTGRES_URL

DATABASES = ("sqlite", "postgresql") if POSTGRES_URL else ("sqlite",)
TINY = Settings(rounds=1, warmup=1, databases=DATABASES, database_server=POSTGRES_URL, quick=True)


@pytest.fixture(scope="module")
def result():
    # A thread of its own, as in tests/postgres/test_load_bench.py (Playwright's event loop).
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run, TINY).result()


@pytest.mark.parametrize("database", DATABASES)
def test_the_signin_bench_measures_every_request_beside_the_reference(result, database):
    figures = result[database]
    steps = list(figures["worker_cpu_ms_per_request"])
    assert len(steps) == figures["signin_requests"] >= 3
    assert steps[0].startswith("GET flow page") and steps[-1] == "GET /me"
    assert list(figures["signin_sql_statements"]) == steps
    assert all(count > 0 for count in figures["signin_sql_statements"].values())
    # The reference signs in in the same shape: the shipped sign-in asks name and password on
    # one page, so one GET and one POST, then the landing page.
    assert sum(step.startswith("POST flow page") for step in steps) == 1
    assert list(figures["reference_worker_cpu_ms_per_request"]) == [
        "GET /signin",
        "POST /signin",
        "GET /me",
    ]
    assert len(steps) == len(figures["reference_worker_cpu_ms_per_request"])
    for gate in GATES:
        for count in BINDING_COUNTS:
            assert figures["flow_start_sql_statements"][f"{gate}_{count}"] > 0
            assert f"{gate}_{count}" in figures["flow_start_worker_cpu_ms"]
    for moment in ("after_boot", "after_run"):
        memory = figures["memory_mib"][moment]
        assert len(memory["gatehouse_workers"]) == 1
        assert (
            memory["gatehouse_workers"][0]["rss_mib"]
            > memory["gatehouse_workers"][0]["pss_mib"]
            > 0
        )
        assert memory["reference_workers"][0]["rss_mib"] > 0
    added = figures["memory_mib"]["workers"]["preload_with_oidc_application"]
    assert len(added[3]["workers"]) == 3 and added[1]["total_pss_mib"] > 0
    assert "pss_mib_per_added_worker" in added
    assert figures["bcrypt_cpu_ms"]["cost12"] > figures["bcrypt_cpu_ms"]["cost10"] > 0
    if database == "postgresql":
        assert "signin_db_cpu_ms" in figures
