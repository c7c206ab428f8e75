"""A worker imports only what it needs to serve: Alembic waits for `idp db …` or `idp setup`,
zxcvbn's word lists for the first password check, py_webauthn for the first passkey, pyotp
and segno for the first authenticator app, smtplib for the first mail, regex for the
first expression that uses regex_match, httpx for the first back-channel logout, and authlib,
joserfc and cryptography for the first OpenID Connect request, YAML and the flow file reader
(idp/transfer) for the first flow export or import or YAML field in the admin, the admin's
views for the first admin page, and an XML parser for the first SVG uploaded. A site loads only
its own database's driver and SQLAlchemy dialect."""

import subprocess
import sys
from pathlib import Path

from idp.core.lazy_views import LazyView
from tests.factories import PASSWORD, make_user

ROOT = Path(__file__).resolve().parent.parent.parent


def imported_after(tmp_path, code: str, database_url: str | None = None) -> set[str]:
    script = f"import sys, wsgi\n{code}\nprint(' '.join(sorted(sys.modules)))"
    environment = {"IDP_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    if database_url:
        environment["IDP_DATABASE_URL"] = database_url
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


def among(modules: set[str], names: set[str]) -> set[str]:
    """Those of `names` (packages, or modules of a package) that `modules` has loaded."""
    return {name for name in names for module in modules if (module + ".").startswith(name + ".")}


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
    "authlib",
    "joserfc",
    "cryptography",
    "sqlalchemy.dialects.postgresql",
    "yaml",
    "idp.transfer.document",
    "idp.transfer.importer",
    "idp.transfer.exporter",
    "idp.admin.applications",
    "idp.admin.catalog",
    "idp.admin.dashboard",
    "idp.admin.flows",
    "idp.admin.invitations",
    "idp.admin.settings",
    "idp.admin.users",
    "xml",
    "pyexpat",
}


def test_a_worker_serves_without_what_few_requests_use(tmp_path):
    modules = imported_after(tmp_path, "")
    assert "flask" in modules
    assert not among(modules, LOADED_WHEN_USED)


def test_every_lazily_loaded_view_exists(app):
    lazy = [view for view in app.view_functions.values() if isinstance(view, LazyView)]
    assert len(lazy) > 90  # the admin's and OpenID Connect's
    for view in lazy:
        assert callable(view.load()), view.import_name


def test_a_postgresql_site_loads_no_sqlite(tmp_path):
    """Nothing connects while the app is built: no server is needed to see what it imports."""
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:9/none"
    modules = imported_after(tmp_path, "", unreachable)
    assert "sqlalchemy.dialects.postgresql" in modules
    assert not among(modules, {"sqlite3", "_sqlite3", "sqlalchemy.dialects.sqlite"})


SIGN_IN = f"""
import re
browser = wsgi.app.test_client()
page = browser.get("/flow/default-authentication-flow/").text
token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
answer = browser.post("/flow/default-authentication-flow/", data={{
    "csrf_token": token, "uid_field": "alice", "password": "{PASSWORD}"}})
assert answer.status_code == 303, answer.status_code
assert browser.get("/me").status_code == 200
"""


def test_a_sign_in_loads_no_openid_connect_library(app, tmp_path):
    """The test's database (shipped flows, alice), signed in to from a fresh process."""
    with app.app_context():
        make_user("alice")
    modules = imported_after(tmp_path, SIGN_IN, app.config["SQLALCHEMY_DATABASE_URI"])
    assert "flask_login" in modules
    assert not among(modules, {"authlib", "joserfc", "cryptography"})


def test_idp_db_upgrade_still_migrates(tmp_path):
    environment = {"IDP_INSTANCE_PATH": str(tmp_path / "instance"), "PATH": "/usr/bin:/bin"}
    idp = str(Path(sys.executable).with_name("idp"))
    subprocess.run([idp, "db", "upgrade"], env=environment, check=True, capture_output=True)
    current = subprocess.run(
        [idp, "db", "current"], env=environment, check=True, capture_output=True, text=True
    )
    assert "(head)" in current.stdout
