"""Fixtures: an app with a fresh database per test, a client, a CLI runner, a query counter
and a `flows` driver that walks a flow the way a browser does (CSRF token included).

SQLite by default; with IDP_TEST_DATABASE_URL set, every test runs on PostgreSQL instead
(one throwaway database per run and per xdist worker, emptied between tests).

The shipped flows are imported once per run (per worker): every test's database starts as a
copy of that one (SQLite: the file is copied; PostgreSQL: its rows are inserted again).
"""

import fcntl
import os
import re
import secrets
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import jinja2
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from sqlalchemy import event
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from idp import create_app
from idp.core.extensions import db
from idp.models import SiteSetting
from tests import factories
from tests.smtp_server import running_smtp_server

POSTGRES_URL = os.environ.get("IDP_TEST_DATABASE_URL", "")
SHIPPED_FLOWS = Path(__file__).resolve().parent.parent / "flows"
CHECKOUT = Path(__file__).resolve().parents[1]


def _beside_the_checkout():
    """Folders the lead's shared folder may sit in: beside the repository, or beside the
    folder of worktrees it may be checked out in; for a git worktree anywhere else, beside
    the main checkout it belongs to (its `.git` file names `<main>/.git/worktrees/<name>`)."""
    yield from CHECKOUT.parents[:2]
    git = CHECKOUT / ".git"
    if git.is_file():
        main_checkout = Path(git.read_text().removeprefix("gitdir:").strip()).parents[2]
        yield main_checkout.parent


# The lead's shared folder: authentik's blueprints as test data.
SHARED = next(
    (folder / "shared" for folder in _beside_the_checkout() if (folder / "shared").is_dir()),
    CHECKOUT.parent / "shared",
)
TEST_SECRET = "test-secret-key-that-is-long-enough-for-gatehouse"


def _keep_compiled_url_builders() -> None:
    """Every test makes an app, and werkzeug writes and compiles (ast, compile()) two URL
    builders for each of its ~140 rules: 95 % of making an app. The builders depend only on the
    rule's parts and defaults, the same in every app of the run, so the run compiles each once.
    The functions take the rule as an argument: nothing of one app reaches another."""
    compile_builder = Rule._compile_builder
    compiled = {}

    def cached(rule, append_unknown=True):
        defaults = tuple(
            sorted((str(key), repr(value)) for key, value in (rule.defaults or {}).items())
        )
        key = (rule.rule, tuple(rule._trace), defaults, append_unknown)
        if key not in compiled:
            compiled[key] = compile_builder(rule, append_unknown)
        return compiled[key]

    Rule._compile_builder = cached


def _keep_parsed_url_rules() -> None:
    """Then werkzeug parses each rule's string into regular-expression parts again for every
    app: 8 % of an HTTP test. The parts depend only on the string and the map's converter
    classes; what belongs to one map (the converter objects) is made anew for each rule."""
    parse_rule = Rule._parse_rule
    parsed = {}

    def cached(rule, text):
        key = (text, tuple(sorted(rule.map.converters.items())))
        if key not in parsed:
            trace_from = len(rule._trace)
            converters = []
            make_converter = rule.get_converter

            def recording(variable, name, args, kwargs):
                converters.append((variable, name, args, dict(kwargs)))
                return make_converter(variable, name, args, kwargs)

            rule.get_converter = recording
            try:
                parts = list(parse_rule(rule, text))
            finally:
                del rule.get_converter
            parsed[key] = (parts, rule._trace[trace_from:], converters)
            return parts
        parts, trace, converters = parsed[key]
        rule._trace.extend(trace)
        for variable, name, args, kwargs in converters:
            rule._converters[variable] = rule.get_converter(variable, name, args, kwargs)
            rule.arguments.add(variable)
        return list(parts)

    Rule._parse_rule = cached


_keep_compiled_url_builders()
_keep_parsed_url_rules()


class CompiledTemplates(jinja2.BytecodeCache):
    """Every test makes an app, and each app's Jinja environment compiled every template it
    rendered again: 40 % of an HTTP test. The environments are configured alike, so the run
    compiles each template (by name, file and source checksum) once and shares the code object,
    which is immutable; a changed source has another checksum and is compiled anew."""

    def __init__(self):
        self.codes = {}

    def load_bytecode(self, bucket):
        checksum, code = self.codes.get(bucket.key, (None, None))
        if checksum == bucket.checksum:
            bucket.code = code

    def dump_bytecode(self, bucket):
        self.codes[bucket.key] = (bucket.checksum, bucket.code)


COMPILED_TEMPLATES = CompiledTemplates()


class CompiledStatements:
    """Every test makes an app and so an engine, and each engine compiled every SQL statement
    again: its cache of compiled statements is its own, and keyed on its own dialect object.
    That was a fifth of an HTTP test. The engines of a run are alike (one driver, one server),
    so each new one takes the dialect of the first of its server that connected, which has learnt
    the server's version and features, and one cache shared with it: each statement is
    compiled once per worker. Connections, pools and events stay each engine's own."""

    def __init__(self):
        self.shared = {}

    def seed(self, engine) -> None:
        """`engine` has connected: its dialect is initialized."""
        self.shared.setdefault(self._kind(engine), (engine.dialect, sa.util.LRUCache(20_000)))

    def share(self, engine) -> None:
        shared = self.shared.get(self._kind(engine))
        if shared is not None:
            engine.dialect, engine._compiled_cache = shared

    @staticmethod
    def _kind(engine) -> tuple:
        """Engines of one server (another one, tests/postgres/test_outage.py's, may differ)."""
        url = engine.url
        return type(engine.dialect), url.drivername, url.host, url.port


COMPILED_STATEMENTS = CompiledStatements()


def pytest_report_header(config):
    return f"database: {'PostgreSQL' if POSTGRES_URL else 'SQLite'}"


@contextmanager
def throwaway_postgres_database(prefix: str):
    """The URL of a new, empty PostgreSQL database on IDP_TEST_DATABASE_URL's server, dropped
    (whoever is still connected) when the block ends."""
    server = sa.engine.make_url(POSTGRES_URL)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def clock(time_machine):
    """A stopped clock at a whole second, moved only by the test (clock.shift): every time
    rule is driven with it, and a loaded machine cannot run a wait out meanwhile."""
    time_machine.move_to(datetime.now(UTC).replace(microsecond=0), tick=False)
    return time_machine


@pytest.fixture
def many_postgres_connections():
    """Held by a test that opens about fifty PostgreSQL connections at once. Two of them on two
    xdist workers would together pass the server's max_connections (100), and their requests
    would get 503s: this lock, shared by every worker on the machine, runs them one at a time."""
    if not POSTGRES_URL:
        yield
        return
    lock_path = Path(tempfile.gettempdir()) / "gatehouse-tests-many-connections.lock"
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this run, dropped at the end."""
    if not POSTGRES_URL:
        yield None
        return
    # Each xdist worker is a session of its own, with a database of its own.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with throwaway_postgres_database(f"gatehouse_test_{worker}") as url:
        engine = sa.create_engine(url)
        db.metadata.create_all(engine)
        engine.dispose()
        yield url
        if url in RESTORE_ENGINES:
            RESTORE_ENGINES.pop(url).dispose()


def make_test_app(tmp_path, database_url=None, **overrides):
    database_url = database_url or f"sqlite:///{tmp_path / 'test.db'}"
    config = {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": TEST_SECRET,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BCRYPT_ROUNDS": 4,
        **overrides,
    }
    app = create_app(config)
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    with app.app_context():
        COMPILED_STATEMENTS.share(db.engine)
    app.test_client_class = Browser
    return app


@pytest.fixture
def mailbox(monkeypatch):
    """A real SMTP server on loopback that keeps what the app sends. The app must be made
    after it: a test module asks for it in its own `app` fixture, `def app(mailbox, app)`."""
    with running_smtp_server(monkeypatch) as mailbox:
        yield mailbox


@pytest.fixture
def app_settings():
    """Config overrides for the `app` fixture; a test package or module redefines this."""
    return {}


@pytest.fixture
def stored_settings():
    """Settings written into the database before each test (idp.identity.site_settings). The suite's
    tests were written while sign-up was always open, so they run with it on; tests of a
    fresh install redefine this as `{}` (sign-up off, the shipped default)."""
    return {"enrollment": "on"}


@pytest.fixture(scope="session")
def prepared_database(tmp_path_factory, postgres_database):
    """The database every `app` starts from: the schema and the shipped flows, made once.

    SQLite: a file that each test copies. PostgreSQL: a copy of every table in a schema of its
    own (`pristine`), from which each test's tables are filled again in one round trip."""
    folder = tmp_path_factory.mktemp("prepared")
    app = make_test_app(folder, postgres_database)
    with app.app_context():
        if postgres_database is None:
            db.create_all()
        factories.load_shipped_flows()
        COMPILED_STATEMENTS.seed(db.engine)
        if postgres_database is not None:
            db.session.execute(sa.text(f"CREATE SCHEMA {PRISTINE}"))
            for table in db.metadata.sorted_tables:
                db.session.execute(
                    sa.text(f'CREATE TABLE {PRISTINE}."{table.name}" AS TABLE "{table.name}"')
                )
            db.session.commit()
        db.session.remove()
        db.engine.dispose()
    return PreparedDatabase(folder / "test.db", postgres_database)


PRISTINE = "pristine"


@dataclass(frozen=True)
class PreparedDatabase:
    sqlite_file: Path
    postgres_url: str | None

    def restore(self, tmp_path) -> None:
        """Before the app is made: its SQLite file, or PostgreSQL's tables as prepared."""
        if self.postgres_url is None:
            shutil.copyfile(self.sqlite_file, tmp_path / "test.db")
        else:
            empty_postgres_tables(self.postgres_url, refill=True)


# One connection per database for emptying and refilling it, kept for the run: a new
# connection is a new server process, which read the catalog of every table again (two thirds
# of a restore). The app's own pool is never used for it (empty_postgres_tables says why).
RESTORE_ENGINES: dict[str, sa.Engine] = {}
# Per database, the tables that have rows in the prepared copy (the rest only need emptying).
FILLED_PRISTINE_TABLES: dict[str, frozenset[str]] = {}


def _restore_engine(url: str) -> sa.Engine:
    if url not in RESTORE_ENGINES:
        RESTORE_ENGINES[url] = sa.create_engine(
            url, pool_size=1, max_overflow=0, pool_pre_ping=True
        )
    return RESTORE_ENGINES[url]


def _filled_pristine_tables(url: str, connection) -> frozenset[str]:
    if url not in FILLED_PRISTINE_TABLES:
        FILLED_PRISTINE_TABLES[url] = frozenset(
            table.name
            for table in db.metadata.sorted_tables
            if connection.execute(
                sa.text(f'SELECT EXISTS (SELECT FROM {PRISTINE}."{table.name}")')
            ).scalar()
        )
    return FILLED_PRISTINE_TABLES[url]


def _refill_statements(filled: frozenset[str]) -> list[str]:
    """The prepared rows copied back, parents first, then every serial column's sequence set
    past its table's rows (as TRUNCATE ... RESTART IDENTITY would)."""
    tables = db.metadata.sorted_tables
    copies = [
        f'INSERT INTO "{table.name}" TABLE {PRISTINE}."{table.name}"'
        for table in tables
        if table.name in filled
    ]
    sequences = ", ".join(
        f"setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
        + (
            f'(SELECT coalesce(max("{column.name}"), 0) + 1 FROM "{table.name}")'
            if table.name in filled
            else "1"
        )
        + ", false)"
        for table in tables
        for column in table.primary_key.columns
        if column.autoincrement is True
        or (column.autoincrement == "auto" and isinstance(column.type, sa.Integer))
    )
    return [*copies, f"SELECT {sequences}"]


def empty_postgres_tables(url: str, refill: bool = False) -> None:
    """On a connection of its own, not the app's pool: a test that drained the pool (or died
    holding its connections) must not leave its rows to the next test. DELETE, children first,
    rather than TRUNCATE: on tables this small it takes 15 ms where TRUNCATE took 230 (a new
    file for each of 34 tables). With `refill`, the prepared rows are copied back in the same
    transaction and round trip, on the server."""
    statements = [f'DELETE FROM "{table.name}"' for table in reversed(db.metadata.sorted_tables)]
    with _restore_engine(url).begin() as connection:
        if refill:
            statements += _refill_statements(_filled_pristine_tables(url, connection))
        connection.execute(sa.text("SET LOCAL lock_timeout = '30s'"))
        connection.execute(sa.text("; ".join(statements)))


@pytest.fixture
def app(tmp_path, postgres_database, prepared_database, app_settings, stored_settings):
    # Restored before each test rather than after, so that a test whose teardown failed leaves
    # nothing to the next one.
    prepared_database.restore(tmp_path)
    app = make_test_app(tmp_path, postgres_database, **app_settings)
    with app.app_context():
        if stored_settings:
            db.session.add_all(
                SiteSetting(key=key, value=value) for key, value in stored_settings.items()
            )
            db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app_context(app):
    """For tests that use models directly. Do not combine with client requests: Flask reuses
    an open app context for them, so `g` would be shared between requests."""
    with app.app_context():
        yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def flows(client):
    return FlowDriver(client)


@dataclass
class LiveServer:
    url: str

    def __call__(self, path: str) -> str:
        return self.url + path


@contextmanager
def serving(app, ssl_context=None):
    """The app on a free loopback port (HTTPS with an `ssl_context`), in a daemon thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},  # shutdown() waits up to one poll interval
        name="live-server",
        daemon=True,
    )
    thread.start()
    scheme = "https" if ssl_context else "http"
    try:
        yield LiveServer(f"{scheme}://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    """The test's app (fresh database, shipped flows) on a free loopback port."""
    with serving(app) as server:
        yield server


@pytest.fixture
def query_counter(app):
    """Counts SQL statements sent while the counter is active."""
    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    # Listen outside any app context: an open one would be shared by the client's requests.
    event.listen(engine, "before_cursor_execute", counter.on_execute)
    yield counter
    event.remove(engine, "before_cursor_execute", counter.on_execute)


class Browser(FlaskClient):
    """The test client: a current browser, which says Sec-Fetch-Site: same-origin (a page of
    this site sent it), so stages that act on arrival act. `app.test_client(
    sec_fetch_site=None)` is an older browser or a script, which sends no such header."""

    sec_fetch_site: str | None = "same-origin"

    def __init__(self, *args, sec_fetch_site="", **kwargs):
        super().__init__(*args, **kwargs)
        site = self.sec_fetch_site if sec_fetch_site == "" else sec_fetch_site
        if site is not None:
            self.environ_base["HTTP_SEC_FETCH_SITE"] = site


class MailProgramBrowser(Browser):
    """A test client that opens links as a browser does from a mail program: it says
    Sec-Fetch-Site: none, so emailed links are used at once rather than confirmed."""

    sec_fetch_site = "none"


class QueryCounter:
    def __init__(self):
        self.statements = []
        self.active = False

    def on_execute(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.statements.append(statement)

    def count(self, action) -> int:
        self.statements = []
        self.active = True
        try:
            action()
        finally:
            self.active = False
        return len(self.statements)


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def stage_of(html: str) -> str:
    """The stage type shown in the #stage fragment (or 'message')."""
    match = re.search(r'<div id="stage" data-stage="([^"]+)"', html)
    assert match, "no #stage fragment in the page"
    return match.group(1)


class FlowDriver:
    """Walks a flow as a browser would: GET the page, POST the form with its CSRF token."""

    HTMX = {"HX-Request": "true"}

    def __init__(self, client):
        self.client = client
        self.page = ""

    def url(self, slug, next_url=None):
        return f"/flow/{slug}/" + (f"?next={next_url}" if next_url else "")

    def open(self, slug, next_url=None, **kwargs):
        response = self.client.get(self.url(slug, next_url), **kwargs)
        self.page = response.get_data(as_text=True)
        return response

    def submit(self, slug, data, htmx=False, next_url=None, csrf=True):
        form = dict(data)
        if csrf:
            form.setdefault("csrf_token", csrf_token(self.page))
        headers = self.HTMX if htmx else {}
        response = self.client.post(self.url(slug, next_url), data=form, headers=headers)
        if response.status_code == 303 and not htmx:
            location = urlsplit(response.headers["Location"])
            if location.path.startswith("/flow/"):
                followed = self.client.get(response.headers["Location"])
                self.page = followed.get_data(as_text=True)
                return response
        self.page = response.get_data(as_text=True)
        return response

    @property
    def stage(self) -> str:
        return stage_of(self.page)

    @property
    def text(self) -> str:
        return unescape(re.sub(r"<[^>]+>", " ", self.page))

    def sign_in(self, username, password, slug="default-authentication-flow", htmx=False):
        self.open(slug)
        self.submit(slug, {"uid_field": username}, htmx=htmx)
        return self.submit(slug, {"password": password}, htmx=htmx)

    def sign_out(self):
        return self.client.get("/logout", follow_redirects=True)
