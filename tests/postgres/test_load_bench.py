"""bench/load.py in miniature, so it cannot rot: its own database and gunicorn, a few
sign-ins, every figure present, nothing left behind."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from bench.load import SIGNIN_STEPS, Settings, run
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
]

TINY = Settings(
    bcrypt_rounds=4,
    throughput_clients=1,
    throughput_warmup_s=0.2,
    # Long enough for whole sign-ins to end inside the window on a slow, loaded machine: with
    # 1 s, one CI run on a 2-core machine counted none (0.0 sign-ins per second).
    throughput_s=4.0,
    clients=3,
    checkpoints=(30, 60),
    database_server=POSTGRES_URL,
)


def database_exists(name: str) -> bool:
    engine = sa.create_engine(POSTGRES_URL)
    with engine.connect() as connection:
        found = connection.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).scalar()
    engine.dispose()
    return found is not None


def test_the_load_bench_signs_in_measures_and_cleans_up():
    # A thread of its own, as `python -m bench.load` has: the browser tests leave
    # Playwright's event loop running in the main thread, and asyncio.run refuses to nest.
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(run, TINY).result()

    assert result["throughput_errors"] == {}
    assert result["latency_errors"] == {}
    assert result["signins_per_second_per_worker"] > 0
    assert result["throughput_signins_counted"] > 0
    for step in SIGNIN_STEPS:
        latency = result["latency_ms"][step]
        assert latency["count"] > 0
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"]
    memory = result["memory_mib"]
    for moment in ("after_boot", "after_30_requests", "after_60_requests"):
        assert len(memory[moment]) == 2  # one entry per worker
        assert all(worker["rss_mib"] > 0 for worker in memory[moment])
    assert len(result["rss_growth_mib_30_to_60_requests"]) == 2
    assert not database_exists(result["database_name"])
