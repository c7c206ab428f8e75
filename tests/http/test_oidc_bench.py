"""bench/oidc.py in miniature, so it cannot rot: gunicorn, a signed-in user, an application's
every call, each figure present and sensible."""

from concurrent.futures import ThreadPoolExecutor

from bench.oidc import STEPS, run_on


def test_the_oidc_bench_measures_every_endpoint_beside_a_static_200(tmp_path):
    # A thread of its own, as in tests/postgres/test_load_bench.py (Playwright's event loop).
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(run_on, "sqlite", 5, tmp_path).result()
    assert result["rounds"] == 5
    assert set(result["cpu_ms"]) == set(STEPS)
    assert all(ms > 0 for ms in result["cpu_ms"].values()), result["cpu_ms"]
    assert result["ratio_to_static"]["static"] == 1.0
