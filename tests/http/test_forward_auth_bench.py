"""bench/forward_auth.py in miniature, so it cannot rot: gunicorn, a signed-in member, both
figures present and sensible."""

from concurrent.futures import ThreadPoolExecutor

from bench.forward_auth import run


def test_the_forward_auth_bench_measures_the_answer_beside_a_static_200(tmp_path):
    # A thread of its own, as in tests/postgres/test_load_bench.py (Playwright's event loop).
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(run, 20, tmp_path).result()
    assert result["rounds"] == 20
    assert result["auth_request_cpu_ms"] >= 0 and result["static_cpu_ms"] >= 0
    assert set(result) >= {"ratio", "auth_requests_per_worker_cpu_second"}
