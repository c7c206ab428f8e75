"""A worker imports only what it needs to serve: Alembic waits for `idp db …` or `idp setup`,
zxcvbn's word lists for the first password check, py_webauthn for the first passkey, pyotp
and segno for the first authenticator app, smtplib for the first mail, regex for the
first expression that uses regex_match and httpx for the first back-channel logout."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def imported_after(tmp_path, code: str) -> set[str]:
    script = f"import sys, wsgi\n{code}\nprint(' '.join(sorted(sys.modules)))"
    environment = {"IDP_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return {name.split(".")[0] for name in done.stdout.split()}


LOADED_WHEN_USED = {
    "alembic",
    "flask_migrate",
    "mako",
    "zxcvbn",
    "webauthn",
    "cbor2",
    "OpenSSL",
    "pyotp",
    "segno",
    "smtplib",
    "regex",
    "httpx",
}


def test_a_worker_serves_without_what_few_requests_use(tmp_path):
    modules = imported_after(tmp_path, "")
    assert "flask" in modules
    assert not LOADED_WHEN_USED & modules


def test_idp_db_upgrade_still_migrates(tmp_path):
    environment = {"IDP_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    idp = str(Path(sys.executable).with_name("idp"))
    subprocess.run([idp, "db", "upgrade"], env=environment, check=True, capture_output=True)
    current = subprocess.run(
        [idp, "db", "current"], env=environment, check=True, capture_output=True, text=True
    )
    assert "(head)" in current.stdout
