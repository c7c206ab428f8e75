"""The dashboard's health and warnings: mail to the log, administrators without a second
factor, open sign-up, the development server, the database and its migrations, the version;
each warning linking to where it is fixed."""

import re
from html import unescape
from importlib import metadata
from pathlib import Path

import pyotp
import pytest
from alembic.script import ScriptDirectory
from flask_migrate import stamp
from sqlalchemy import text as sql

from idp.admin.dashboard.health import code_heads
from idp.core.extensions import db
from tests.conftest import FlowDriver
from tests.factories import make_user
from tests.http.admin.conftest import text
from tests.http.stages.test_authenticators import TOTP_SETUP, Clock, otpauth_uri

# The newest migration, as Alembic itself reads the folder (the dashboard reads it its own way).
HEAD = ScriptDirectory(str(Path(__file__).resolve().parents[3] / "migrations")).get_current_head()
GUNICORN = {"SERVER_SOFTWARE": "gunicorn/23.0.0"}


def concerns(page: str) -> dict[str, tuple[str, str]]:
    """Each warning's key -> (its words, its link)."""
    found = re.findall(
        r'<li class="notice warning" id="concern-([a-z]+)"><strong>Warning:</strong> (.*?)\s*'
        r'<a href="([^"]+)">',
        page,
        re.S,
    )
    return {key: (unescape(" ".join(words.split())), unescape(url)) for key, words, url in found}


def dashboard(admin, **environ) -> str:
    return text(admin.get("/admin/", environ_overrides={**GUNICORN, **environ}))


def set_up_totp(client, clock) -> None:
    """The authenticator app setup flow, as its owner goes through it."""
    flows = FlowDriver(client)
    flows.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    assert flows.submit(TOTP_SETUP, {"code": clock.code(totp)}).status_code == 303


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def stamps(app):
    """Alembic's stamp, undone afterwards: on PostgreSQL the test database (and so its
    alembic_version table) outlives the test."""
    yield lambda revision: stamp(revision=revision)
    with app.app_context():
        db.session.execute(sql("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()


def test_each_warning_says_what_is_wrong_and_links_to_where_it_is_fixed(admin):
    found = concerns(dashboard(admin))
    assert set(found) == {"mail", "mfa", "signup", "database"}
    words, url = found["mail"]
    assert words.startswith("Mail goes to the log, not to anyone's inbox")
    assert url == "/admin/health#mail"
    health = text(admin.get(url))
    mail = health.split('<section id="mail"', 1)[1].split("</section>", 1)[0]
    assert "<code>IDP_SMTP_HOST</code>" in mail and "restart" in mail
    words, url = found["mfa"]
    assert words.startswith("Your account has no second factor")
    assert url == "/me/second-factor?next=/admin/"
    assert "Set up an authenticator app" in text(admin.get(url))
    words, url = found["signup"]
    assert words.startswith("Sign-up is open")
    assert url == "/admin/settings#enrollment"
    assert 'id="enrollment"' in text(admin.get(url))


def test_configured_mail_is_named_and_not_warned_about(app, admin):
    app.config.update(SMTP_HOST="smtp.example.test", SMTP_PORT=587, SMTP_TLS="starttls")
    page = dashboard(admin)
    assert "mail" not in concerns(page)
    assert "Sent through smtp.example.test:587 (starttls), from gatehouse@localhost" in page


@pytest.mark.parametrize("stored_settings", [{}])
def test_closed_sign_up_is_not_warned_about(admin, stored_settings):
    assert "signup" not in concerns(dashboard(admin))


def test_an_administrator_with_an_authenticator_app_is_not_warned_about(app, admin, clock):
    set_up_totp(admin, clock)
    assert "mfa" not in concerns(dashboard(admin))
    # Another administrator without one is: their page is where it is seen to.
    with app.app_context():
        other = make_user("deputy", superuser=True)
        make_user("plain")  # plain users are not counted
        deputy = other.id
    words, url = concerns(dashboard(admin))["mfa"]
    assert words.startswith("An administrator has no second factor")
    assert url == f"/admin/users/{deputy}"
    with app.app_context():
        make_user("second-deputy", superuser=True)
    words, url = concerns(dashboard(admin))["mfa"]
    assert words.startswith("2 administrators have no second factor")
    assert url == "/admin/users"


def test_the_others_without_one_are_counted_with_you(app, admin):
    with app.app_context():
        make_user("deputy", superuser=True)
        disabled = make_user("gone", superuser=True)
        disabled.is_active = False
        db.session.commit()
    words, _ = concerns(dashboard(admin))["mfa"]
    assert words.startswith("Your account and 1 other administrator have no second factor")


def test_the_development_server_is_warned_about(app, admin):
    page = dashboard(admin, SERVER_SOFTWARE="Werkzeug/3.1.3")
    words, url = concerns(page)["server"]
    assert words.startswith("Gatehouse runs on the development server")
    assert url == "/admin/health#server"
    assert "Werkzeug/3.1.3: the development server" in page
    server = text(admin.get(url)).split('<section id="server"', 1)[1].split("</section>", 1)[0]
    assert "<code>gunicorn -c python:idp.gunicorn_conf idp.wsgi:app</code>" in server
    assert "<code>gunicorn wsgi:app</code>" in server
    assert "server" not in concerns(dashboard(admin))  # gunicorn


@pytest.mark.parametrize("app_settings", [{"DEBUG": True}])
def test_debug_mode_is_warned_about_whatever_the_server(admin, app_settings):
    words, _ = concerns(dashboard(admin))["server"]
    assert words.startswith("Gatehouse runs in debug mode")


def test_the_database_kind_version_and_migrations_are_shown(app, admin, stamps):
    page = dashboard(admin)
    shown = r"<dt>Database</dt><dd>(SQLite 3|PostgreSQL 1\d)(\.\d+)+, reachable; migrations not up"
    assert re.search(shown, page)
    words, url = concerns(page)["database"]
    assert "no alembic_version table" in words and HEAD in words
    with app.app_context():
        stamps("e5b7c9d1f3a2")  # what an older release left
    words, url = concerns(dashboard(admin))["database"]
    assert words.endswith(f"the database is at e5b7c9d1f3a2, this version at {HEAD}.")
    database = text(admin.get(url)).split('<section id="database"', 1)[1].split("</section>")[0]
    assert "<code>idp db upgrade</code>" in database
    with app.app_context():
        stamps("head")
    page = dashboard(admin)
    assert "database" not in concerns(page)
    assert "reachable; migrations up to date" in page


def test_the_code_head_is_read_from_the_migration_files(app):
    with app.app_context():
        folder = app.extensions["migrate"].directory
    assert code_heads(folder) == (HEAD,)


def test_the_version_is_the_installed_packages(admin):
    version = metadata.version("gatehouse")
    assert f"<dt>Version</dt><dd>Gatehouse {version}</dd>" in dashboard(admin)


def test_nothing_to_warn_about_says_so(app, admin, clock, stamps):
    app.config.update(SMTP_HOST="smtp.example.test")
    set_up_totp(admin, clock)
    with app.app_context():
        stamps("head")
    page = text(admin.get("/admin/settings"))
    assert post_setting(admin, page, "off").status_code == 303
    page = dashboard(admin)
    assert concerns(page) == {}
    assert "Nothing needs your attention." in page


def post_setting(admin, page: str, value: str):
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return admin.post("/admin/settings", data={"csrf_token": token, "enrollment": value})


def test_the_health_page_costs_few_queries(admin, query_counter):
    admin.get("/admin/health")
    assert query_counter.count(lambda: admin.get("/admin/health")) <= 3
