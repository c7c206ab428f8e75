"""Browser tests: the system Chromium, driven by Playwright, against the app served on a free
loopback port, with JavaScript on (HTMX swaps the stages) and off (plain POST forms).

A missing /usr/bin/chromium skips these tests on a laptop; with IDP_REQUIRE_BROWSER=1 (set by
.ci/run) it fails them instead.
"""

import os
from pathlib import Path

import pytest

from tests import factories
from tests.browser.accessibility import Audit, audit_or_skip

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_DIRECTORY = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium keeps trying to reach hosts this machine cannot reach.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 900, "height": 700}
# How long a single Playwright wait may take: the app is local, so anything slower is a bug.
TIMEOUT_MS = 10_000


def browser_required() -> bool:
    return os.environ.get("IDP_REQUIRE_BROWSER") == "1"


def chromium_missing_message() -> str | None:
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return None
    return f"{CHROMIUM} is not installed (apt-get install chromium)"


def pytest_collection_modifyitems(config, items):
    missing = chromium_missing_message()
    for item in items:
        if BROWSER_DIRECTORY not in Path(str(item.path)).resolve().parents:
            continue
        item.add_marker(pytest.mark.browser)
        if missing and not browser_required():
            item.add_marker(pytest.mark.skip(reason=missing))


@pytest.fixture(scope="session", autouse=True)
def _chromium_is_installed():
    """Fails every browser test when the browser is required (CI) but absent."""
    missing = chromium_missing_message()
    if missing:
        if browser_required():
            pytest.fail(f"IDP_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def auditor_page(browser):
    """The page axe-core audits in, one per worker: axe is loaded into it once, not once per
    test (a context and axe's 500 kB cost ~0.35 s each time)."""
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def accessibility_audit(auditor_page):
    """axe-core over every page state of the test, both themes (accessibility.py); the test
    fails on any violation."""
    audit = Audit()
    yield audit
    if not audit.snapshots or not audit_or_skip():
        return
    violations = audit.run(auditor_page)
    if violations:
        pytest.fail(
            f"{len(violations)} accessibility violation(s):\n" + "\n".join(violations),
            pytrace=False,
        )


@pytest.fixture
def new_context(new_context, accessibility_audit):
    """pytest-playwright's new_context, with every context watched by the audit."""

    def make(**kwargs):
        context = new_context(**kwargs)
        accessibility_audit.watch(context, kwargs.get("java_script_enabled", True))
        return context

    return make


# pytest-playwright's base_url and browser_context_args are session-scoped, but the app (and
# so the server's port) is new for every test: both are function-scoped here.
@pytest.fixture
def base_url(live_server):
    return live_server.url


@pytest.fixture
def browser_context_args(base_url):
    return {"base_url": base_url, "viewport": VIEWPORT}


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def javascript(request):
    """Run the test with JavaScript on (HTMX) and off (plain forms)."""
    return request.param


def _page_of(context):
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def visitor(new_context, javascript):
    """A page in a fresh browser context, with JavaScript on or off (parametrized)."""
    return _page_of(new_context(java_script_enabled=javascript))


@pytest.fixture
def page_with_js(new_context):
    return _page_of(new_context(java_script_enabled=True))


@pytest.fixture
def page_without_js(new_context):
    """JavaScript off: browser.new_context(java_script_enabled=False), closed after the test."""
    return _page_of(new_context(java_script_enabled=False))


@pytest.fixture
def make_user(app):
    """Creates a user (password tests.factories.PASSWORD) and returns its username."""

    def make(**fields) -> str:
        with app.app_context():
            return factories.make_user(**fields).username

    return make


@pytest.fixture
def instance_is_set_up(app):
    """An administrator exists, so "/" offers the sign-in flow rather than initial setup."""
    with app.app_context():
        factories.make_user(username="admin", superuser=True)
