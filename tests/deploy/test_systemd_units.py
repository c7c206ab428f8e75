"""The systemd units in deploy/systemd/, as a self-hoster copies them, with only their paths
changed to this checkout: systemd's own checker reads them (no unknown setting, every program
they name is there), and their command lines, run the way systemd runs them (the environment
file, then Environment=, from the working directory), set up the database, serve Gatehouse
after telling systemd it is ready (Type=notify), and purge.

A missing systemd-analyze skips the checker's test on a laptop; with IDP_REQUIRE_SYSTEMD=1
(set by .ci/run) it fails it instead."""

import shlex
import shutil
import signal
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from tests.deploy.conftest import (
    ROOT,
    STARTUP_SECONDS,
    WebClient,
    database_for,
    skip_unless_required,
    stop,
)
from tests.http.test_access_log import free_port

UNITS = ROOT / "deploy" / "systemd"
VIRTUALENV = Path(sys.executable).parent.parent
SECRET = "a-secret-key-for-the-systemd-units-test-only"


def installed_units(folder: Path) -> dict[str, Path]:
    """The units with the README's paths replaced by this checkout's, this virtualenv's and
    the test's own folders."""
    replacements = {
        "/opt/gatehouse/venv": str(VIRTUALENV),
        "/opt/gatehouse/src": str(ROOT),
        "/etc/gatehouse/gatehouse.env": str(folder / "gatehouse.env"),
        "/var/lib/gatehouse": str(folder / "state"),
    }
    units = {}
    for unit in sorted(UNITS.iterdir()):
        text = unit.read_text()
        for shipped, here in replacements.items():
            text = text.replace(shipped, here)
        units[unit.name] = folder / unit.name
        units[unit.name].write_text(text)
    return units


def service_settings(unit: Path) -> dict[str, list[str]]:
    """The [Service] section's settings, each with every value it is given."""
    settings, section = {}, None
    for line in unit.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


def environment_of(settings: dict[str, list[str]]) -> dict[str, str]:
    environment = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    for file in settings.get("EnvironmentFile", []):
        for line in Path(file).read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                key, _, value = line.partition("=")
                environment[key] = value
    for assignment in settings.get("Environment", []):
        key, _, value = assignment.partition("=")
        environment[key] = value
    return environment


def run(command: str, settings: dict, **extra) -> subprocess.CompletedProcess:
    return subprocess.run(
        shlex.split(command),
        cwd=settings["WorkingDirectory"][0],
        env={**environment_of(settings), **extra},
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS * 2,
    )


@contextmanager
def systemd_notify_socket(folder: Path):
    """The datagram socket systemd listens on for a Type=notify service's messages."""
    path = folder / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        listener.settimeout(STARTUP_SECONDS)
        yield path, listener


def test_systemd_reads_the_units_without_a_complaint(tmp_path):
    checker = shutil.which("systemd-analyze")
    skip_unless_required(
        None if checker else "systemd-analyze is not installed (apt-get install systemd)",
        "IDP_REQUIRE_SYSTEMD",
    )
    units = installed_units(tmp_path)
    (tmp_path / "gatehouse.env").write_text("")

    result = subprocess.run(
        [checker, "verify", *map(str, units.values())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "systemd warned about the units"


def test_the_units_set_up_serve_and_purge_as_systemd_runs_them(tmp_path):
    units = installed_units(tmp_path)
    (tmp_path / "state").mkdir(mode=0o700)  # StateDirectory=: systemd makes it
    with database_for(tmp_path, "systemd") as database_url:
        (tmp_path / "gatehouse.env").write_text(
            f"IDP_DATABASE_URL={database_url}\nIDP_SECRET_KEY={SECRET}\n"
        )
        web = service_settings(units["gatehouse.service"])
        assert web["Type"] == ["notify"] and web["KillMode"] == ["mixed"]

        (setup,) = web["ExecStartPre"]
        prepared = run(setup, web)
        assert prepared.returncode == 0, prepared.stderr

        port = free_port()
        with systemd_notify_socket(tmp_path) as (notify_path, notifications):
            (start,) = web["ExecStart"]
            server = subprocess.Popen(
                shlex.split(start),
                cwd=web["WorkingDirectory"][0],
                env={
                    **environment_of(web),
                    "NOTIFY_SOCKET": str(notify_path),
                    "GUNICORN_BIND": f"127.0.0.1:{port}",
                    "GUNICORN_WORKERS": "1",
                },
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                assert b"READY=1" in notifications.recv(4096), "gunicorn never told systemd"
                status = WebClient(port, source="127.0.0.1").request("GET", "/readyz").status
                assert status == 200
            finally:
                server.send_signal(signal.SIGTERM)  # what KillMode=mixed sends the main process
                stop(server)
            assert server.returncode == 0

        purge = service_settings(units["gatehouse-purge.service"])
        assert purge["Type"] == ["oneshot"]
        (command,) = purge["ExecStart"]
        purged = run(command, purge)
        assert purged.returncode == 0, purged.stderr
        assert "session(s) that ended over 30 days ago" in purged.stdout


def test_the_timer_runs_the_purge_daily():
    timer = (UNITS / "gatehouse-purge.timer").read_text()
    assert "OnCalendar=daily" in timer and "Persistent=true" in timer
    assert (UNITS / "gatehouse-purge.service").is_file()  # a timer starts the unit of its name
