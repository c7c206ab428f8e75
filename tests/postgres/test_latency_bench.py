"""bench/latency.py in miniature, so it cannot rot: both worker models, every figure."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.latency import MODELS, Settings, run
from tests.conftest import POSTGRES_URL

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
]

TINY = Settings(
    capacity_s=0.5,
    phase_s=1.0,
    capacity_clients=2,
    burst_clients=1,
    bcrypt_rounds=4,
    database_server=POSTGRES_URL,
    quick=True,
)


def test_the_latency_bench_times_pages_on_both_worker_models():
    with ThreadPoolExecutor(max_workers=1) as pool:  # as in test_load_bench.py
        result = pool.submit(run, TINY).result()

    assert result["arrival_rate_pages_per_second"] > 0
    for model in MODELS:
        figures = result[model]
        assert figures["capacity_pages_per_second"] > 0
        for phase in ("pages_only", "pages_during_signins"):
            timing = figures[phase]
            assert timing["errors"] == 0, timing["first_error"]
            assert timing["pages"] > 0
            assert 0 < timing["p50_ms"] <= timing["p99_ms"] <= timing["max_ms"]
        assert figures["pages_during_signins"]["signins_during_phase"] > 0
