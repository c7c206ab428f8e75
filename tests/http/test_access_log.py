"""The access log names the path of every request, a 500 too (it once read "GET -"), and
never a mailed token: the shipped gunicorn.conf.py, run by gunicorn on a loopback port."""

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
TOKEN = "x" * 43  # as long as a mailed link's token


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def gunicorn(tmp_path):
    processes = []

    def start(application: str) -> tuple[int, Path]:
        port, log = free_port(), tmp_path / f"gunicorn-{len(processes)}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "-c",
                    str(ROOT / "gunicorn.conf.py"),
                    application,
                ],
                cwd=ROOT,
                env={
                    **os.environ,
                    "GUNICORN_BIND": f"127.0.0.1:{port}",
                    "GUNICORN_WORKERS": "1",
                    "IDP_INSTANCE_PATH": str(tmp_path / "instance"),
                    "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{len(processes)}"),
                },
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        processes.append(process)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return port, log
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"gunicorn did not listen:\n{log.read_text()}")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=15)


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def access_line(log: Path, method_and_status: tuple[str, str]) -> str:
    method, status = method_and_status
    for _ in range(50):  # gunicorn writes the line just after the answer
        for line in log.read_text().splitlines():
            if f'"{method} ' in line and f'" {status} ' in line:
                return line
        time.sleep(0.1)
    pytest.fail(f"no access line for {method} with {status}:\n{log.read_text()}")


def test_a_500_whose_error_page_fails_too_is_logged_with_its_path(gunicorn):
    port, log = gunicorn("tests.http.broken_error_page:app")
    assert get(port, f"/broken/{TOKEN}?next=/me") == 500
    line = access_line(log, ("GET", "500"))
    assert '"GET /broken/[hidden]" 500' in line
    assert TOKEN not in log.read_text()


def test_a_500_gunicorn_answers_itself_is_logged_with_its_path(gunicorn):
    port, log = gunicorn("tests.http.broken_error_page:bare")
    assert get(port, f"/flow/email/{TOKEN}?code=123456") == 500
    line = access_line(log, ("GET", "500"))
    assert '"GET /flow/email/[hidden]" 500' in line
    assert "code=123456" not in line


def test_an_ordinary_answer_keeps_its_path(gunicorn):
    port, log = gunicorn("tests.http.broken_error_page:app")
    assert get(port, "/healthz") == 200
    assert '"GET /healthz" 200' in access_line(log, ("GET", "200"))
