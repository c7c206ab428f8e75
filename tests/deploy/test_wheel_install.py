"""A plain (not editable) install: Gatehouse built as a wheel and installed into a fresh
virtualenv, run from a folder that is not the checkout. `idp setup` must find the schema
migrations and the shipped flows inside the installed package, and the app must serve.

Building the wheel needs the build backend (setuptools, from pyproject.toml's build-system)
from a package index. Where no index answers the test skips; with IDP_REQUIRE_WHEEL=1 (set by
.ci/run) it fails instead.
"""

import http.client
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.deploy.conftest import ROOT, database_for, skip_unless_required, stop, wait_for_port
from tests.smtp_server import free_port

# What the wheel is built from: the checkout's own files, copied so the build writes its
# build/ and *.egg-info folders elsewhere.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "idp", "migrations", "flows")
# pip's words when the build backend cannot be fetched: a missing tool, not a packaging bug.
NO_INDEX = ("No matching distribution found", "Could not find a version", "NewConnectionError")


def build_wheel(folder: Path) -> Path:
    source = folder / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        elif (ROOT / name).is_file():
            shutil.copy2(ROOT / name, source / name)
    wheels = folder / "wheels"
    built = run_pip("wheel", "--no-deps", "--quiet", "-w", str(wheels), str(source))
    if built.returncode != 0:
        if any(words in built.stdout for words in NO_INDEX):
            skip_unless_required(
                f"cannot fetch the build backend:\n{built.stdout}", "IDP_REQUIRE_WHEEL"
            )
        pytest.fail(f"pip wheel failed:\n{built.stdout}", pytrace=False)
    (wheel,) = wheels.glob("gatehouse-*.whl")
    return wheel


def run_pip(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pip", *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )


def fresh_virtualenv(folder: Path, wheel: Path) -> Path:
    """A virtualenv with the wheel installed and nothing of the checkout. Its dependencies
    come from the test's own environment: its site-packages folder is named in a .pth file
    (a plain path, so the editable install of the checkout found there is not switched on)."""
    venv = folder / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    installed = run_pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel))
    assert installed.returncode == 0, installed.stdout + installed.stderr
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dependencies = sysconfig.get_paths()["purelib"]
    Path(site_packages, "test-dependencies.pth").write_text(dependencies + "\n")
    return venv


def idp(venv: Path, environ: dict, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(venv / "bin" / "idp"), *arguments],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=environ["IDP_INSTANCE_PATH"],
        env=environ,
    )


def get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_a_wheel_installed_outside_the_checkout_sets_up_and_serves(tmp_path):
    venv = fresh_virtualenv(tmp_path, build_wheel(tmp_path))
    elsewhere = tmp_path / "instance"
    elsewhere.mkdir()
    with database_for(tmp_path, "wheel") as database_url:
        environ = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
        environ.update(
            IDP_DATABASE_URL=database_url,
            IDP_SECRET_KEY=TEST_SECRET,
            IDP_INSTANCE_PATH=str(elsewhere),
            IDP_BCRYPT_ROUNDS="4",
            PYTHONDONTWRITEBYTECODE="1",
        )
        where = subprocess.run(
            [str(venv / "bin" / "python"), "-c", "import idp; print(idp.__file__)"],
            capture_output=True,
            text=True,
            check=False,
            cwd=elsewhere,
            env=environ,
        )
        assert where.stdout.strip().startswith(str(venv)), where.stdout + where.stderr

        setup = idp(venv, environ, "setup")
        shipped = sorted(path.stem for path in (ROOT / "flows").glob("*.yaml"))
        assert setup.returncode == 0, setup.stdout + setup.stderr
        assert f"Loaded {len(shipped)} shipped flows" in setup.stdout

        listed = idp(venv, environ, "flows", "list")
        assert listed.returncode == 0, listed.stderr
        assert all(slug in listed.stdout for slug in shipped), listed.stdout
        current = idp(venv, environ, "db", "current")
        assert current.returncode == 0, current.stderr
        assert "(head)" in current.stdout, current.stdout

        # gunicorn with the settings and the app the package carries (the README's command
        # for a wheel), and the development server.
        port = free_port()
        gunicorn = [
            *("python", "-m", "gunicorn", "-c", "python:idp.gunicorn_conf"),
            *("-b", f"127.0.0.1:{port}", "-w", "1", "idp.wsgi:app"),
        ]
        log = tmp_path / "gunicorn.log"
        serve_from_the_wheel(venv, gunicorn, port, environ, log)
        # The settings were read: their access log names each request's id.
        assert '"GET /readyz" 200' in log.read_text(), log.read_text()
        assert "request_id=" in log.read_text(), log.read_text()
        port = free_port()
        run = ["idp", "run", "--port", str(port)]
        serve_from_the_wheel(venv, run, port, environ, tmp_path / "run.log")


def serve_from_the_wheel(venv: Path, command, port: int, environ: dict, log: Path) -> None:
    """Pages, their templates and static files come from the installed package."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            [venv / "bin" / command[0], *command[1:]],
            cwd=environ["IDP_INSTANCE_PATH"],
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, process, log)
        assert get(port, "/readyz")[0] == 200
        status, page = get(port, "/flow/default-authentication-flow/")
        assert status == 200, page
        assert 'name="uid_field"' in page
        stylesheet = page.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
        assert get(port, stylesheet)[0] == 200
    finally:
        stop(process)
