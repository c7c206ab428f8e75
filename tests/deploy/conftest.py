"""Gatehouse as it runs in production: gunicorn with the shipped gunicorn.conf.py behind
Debian's nginx with the shipped deploy/nginx.conf, both on loopback ports.

A missing /usr/sbin/nginx skips these tests on a laptop; with IDP_REQUIRE_NGINX=1 (set by
.ci/run) it fails them instead.
"""

import http.client
import os
import socket
import ssl
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bench.load import AS_DEPLOYED
from tests.conftest import POSTGRES_URL, throwaway_postgres_database

NGINX = Path("/usr/sbin/nginx")
ROOT = Path(__file__).resolve().parent.parent.parent
DEPLOY_DIRECTORY = Path(__file__).resolve().parent
STARTUP_SECONDS = 30


def nginx_required() -> bool:
    return os.environ.get("IDP_REQUIRE_NGINX") == "1"


def nginx_missing_message() -> str | None:
    if NGINX.is_file() and os.access(NGINX, os.X_OK):
        return None
    return f"{NGINX} is not installed (apt-get install nginx)"


def pytest_collection_modifyitems(config, items):
    missing = nginx_missing_message()
    for item in items:
        if DEPLOY_DIRECTORY not in Path(str(item.path)).resolve().parents:
            continue
        # Only the tests that run nginx: Apache's (test_mod_auth_openidc.py) have their own.
        if "nginx_binary" not in getattr(item, "fixturenames", ()):
            continue
        if missing and not nginx_required():
            item.add_marker(pytest.mark.skip(reason=missing))


def prepare_site_database() -> None:
    """In an app context: the schema, the shipped flows, and mia in staff beside otto, whom
    the sites' applications let in and keep out; jürgen in staff, whose name is no
    Latin-1, and ingrid in staff and 64 groups with long names."""
    from idp.core.extensions import db
    from tests import factories

    db.create_all()
    factories.load_shipped_flows()
    staff = factories.make_group("staff")
    factories.make_user("mia", groups=[staff])
    factories.make_user("otto")
    factories.make_user("jürgen", groups=[staff, factories.make_group("Grüne 日本")])
    # In as many groups as fill 9 KiB of Remote-Groups: more than nginx's default buffer.
    many = [factories.make_group(f"{index:03}-" + "g" * 145) for index in range(64)]
    factories.make_user("ingrid", groups=[staff, *many])


def skip_unless_required(missing: str | None, variable: str) -> None:
    """A program the tests drive is missing: they skip on a laptop, and fail where
    `variable` is 1 (.ci/run sets it), so that CI never passes by skipping them."""
    if missing:
        if os.environ.get(variable) == "1":
            pytest.fail(f"{variable}=1 but {missing}", pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="session")
def nginx_binary():
    skip_unless_required(nginx_missing_message(), "IDP_REQUIRE_NGINX")
    return NGINX


@contextmanager
def database_for(folder: Path, prefix: str):
    """SQLite in the folder; with IDP_TEST_DATABASE_URL, a PostgreSQL database of its own
    (gunicorn's workers use it while other tests use theirs), dropped at the end."""
    if not POSTGRES_URL:
        yield f"sqlite:///{folder / 'gatehouse.db'}"
        return
    with throwaway_postgres_database(prefix) as url:
        yield url


def wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"exited with {process.returncode}:\n{log.read_text()}", pytrace=False)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"nothing listens on port {port}:\n{log.read_text()}", pytrace=False)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = folder / "tls.pem", folder / "tls.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certificate_path, key_path


def start_gunicorn(folder: Path, port: int, environ: dict) -> subprocess.Popen:
    """gunicorn with the shipped gunicorn.conf.py, two workers, on a loopback port."""
    log = folder / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
            cwd=ROOT,
            env={
                **os.environ,
                "GUNICORN_BIND": f"127.0.0.1:{port}",
                "GUNICORN_WORKERS": "2",
                "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
                **AS_DEPLOYED,
                **environ,
            },
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, log)
    return process


def nginx_config(folder: Path, https_port: int, http_port: int, upstream_port: int) -> Path:
    """The shipped deploy/nginx.conf with this test's ports, certificate and log folder."""
    certificate, key = self_signed_certificate(folder)
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
        "listen 443 ssl http2;": f"listen 127.0.0.1:{https_port} ssl http2;",
        "listen [::]:443 ssl http2;": "",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen [::]:80;": "",
        "/etc/ssl/certs/id.example.org.pem": str(certificate),
        "/etc/ssl/private/id.example.org.key": str(key),
        "/var/log/nginx/gatehouse.access.log": str(folder / "access.log"),
    }
    for old, new in replacements.items():
        assert old in site, f"deploy/nginx.conf no longer has {old!r}: update this test"
        site = site.replace(old, new)
    (folder / "gatehouse.conf").write_text(site)
    main = folder / "nginx.conf"
    main.write_text(
        f"""
daemon off;
master_process off;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/gatehouse.conf;
}}
"""
    )
    return main


def start_nginx(binary: Path, folder: Path, config: Path, port: int) -> subprocess.Popen:
    with (folder / "nginx.out").open("wb") as output:
        process = subprocess.Popen(
            [str(binary), "-e", str(folder / "error.log"), "-p", str(folder), "-c", str(config)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    wait_for_port(port, process, folder / "error.log")
    return process


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str

    @property
    def set_cookies(self) -> list[str]:
        return self.headers.get_all("Set-Cookie") or []


@dataclass
class WebClient:
    """A browser, roughly: one origin, a cookie jar, and a source address of its choosing
    (127.0.0.2 is loopback too, but not the proxy's address)."""

    port: int
    https: bool = False
    source: str = "127.0.0.2"
    headers: dict = field(default_factory=dict)
    cookies: dict = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict | None = None, headers=None) -> Answer:
        if self.https:
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE  # our own self-signed certificate
            connection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, source_address=(self.source, 0), context=context
            )
        else:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, source_address=(self.source, 0)
            )
        origin = f"{'https' if self.https else 'http'}://localhost:{self.port}"
        sent = {"Host": f"localhost:{self.port}", **self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Referer"] = origin + path  # Flask-WTF insists on it over HTTPS
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read().decode())
        finally:
            connection.close()
        for header in answer.set_cookies:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return answer

    def get(self, path: str, **kwargs) -> Answer:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, form: dict, **kwargs) -> Answer:
        return self.request("POST", path, form=form, **kwargs)
