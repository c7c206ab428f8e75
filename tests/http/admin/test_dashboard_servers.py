"""The dashboard read by real servers: Werkzeug's development server is warned about; gunicorn
(with the shipped gunicorn.conf.py, on a database `idp setup` migrated) is not, and neither
are its migrations."""

import os
import re
import subprocess
import sys
import time
from html import unescape
from pathlib import Path

import httpx

from tests.factories import PASSWORD, make_user
from tests.http.test_access_log import free_port

ROOT = Path(__file__).resolve().parents[3]
IDP = str(Path(sys.executable).with_name("idp"))
LOGIN = "/flow/default-authentication-flow/"


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in(base_url: str, username: str) -> httpx.Client:
    """A browser-like client that went through the sign-in flow."""
    client = httpx.Client(
        base_url=base_url, follow_redirects=True, headers={"Sec-Fetch-Site": "same-origin"}
    )
    page = client.get(LOGIN).text
    page = client.post(LOGIN, data={"csrf_token": csrf_of(page), "uid_field": username}).text
    client.post(LOGIN, data={"csrf_token": csrf_of(page), "password": PASSWORD})
    assert client.get("/me").status_code == 200
    return client


def admin_page(base_url: str) -> str:
    browser = sign_in(base_url, "root")
    try:
        return browser.get("/admin/").text
    finally:
        browser.close()


def warnings_of(page: str) -> str:
    return unescape(" ".join(re.findall(r'id="concern-[a-z]+">(.*?)</li>', page, re.S)))


def test_the_development_server_is_named_and_warned_about(app, live_server):
    with app.app_context():
        make_user("root", superuser=True)
    page = admin_page(live_server.url)
    assert re.search(r"<dt>Server</dt><dd>Werkzeug/[\d.]+: the development server</dd>", page)
    assert "Gatehouse runs on the development server" in warnings_of(page)


def test_gunicorn_on_a_migrated_database_has_no_server_or_database_warning(tmp_path):
    environment = {
        **os.environ,
        "IDP_INSTANCE_PATH": str(tmp_path / "instance"),
        "IDP_BCRYPT_ROUNDS": "4",
    }
    environment.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([IDP, "setup"], env=environment, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    subprocess.run(
        [IDP, "users", "create", "root", "--superuser", "--password-stdin"],
        input=PASSWORD,
        text=True,
        env=environment,
        check=True,
        capture_output=True,
    )
    port, log = free_port(), tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env={
                **environment,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": "1",
                "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        page = admin_page_when_up(f"http://127.0.0.1:{port}", server, log)
    finally:
        server.terminate()
        server.wait(timeout=15)
    assert re.search(r"<dt>Server</dt><dd>gunicorn/[\d.]+</dd>", page)
    assert "reachable; migrations up to date" in page
    warnings = warnings_of(page)
    assert "development server" not in warnings and "migrations" not in warnings
    assert "Mail goes to the log" in warnings  # no SMTP server in this environment


def admin_page_when_up(base_url: str, server: subprocess.Popen, log: Path) -> str:
    for _ in range(300):
        assert server.poll() is None, log.read_text()
        try:
            return admin_page(base_url)
        except httpx.TransportError:
            time.sleep(0.1)  # not listening yet
    raise AssertionError(f"gunicorn did not answer:\n{log.read_text()}")
