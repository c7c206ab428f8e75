"""axe-core over every page state the browser tests visit, in the light and the dark theme.

Every browser context the tests make is watched (conftest.py wraps `new_context`): each page
load, with JavaScript on or off, and each HTMX swap (an init script reports `htmx:afterSettle`
on the console) takes a snapshot of the page's DOM as it is then. At the end of the test each
new snapshot is opened in an auditor page of its own, next to the app (its stylesheets and
images load from the same server), and axe-core runs on it with `prefers-color-scheme: light`
(every rule) and again with `dark` (the rules a theme's colours decide: contrast, and links told
apart from text by colour; the theme changes nothing else). Any violation fails the test. The
test's own page is never touched, so nothing the test does or pictures changes.

axe-core comes from npm: `npm ci --prefix tests/browser` (its package.json pins the version).
A missing axe-core skips the audit on a laptop and fails it where IDP_REQUIRE_BROWSER=1 (CI).
"""

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Error as PlaywrightError

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# Each theme with the rules it is audited for: all of them in the light one.
THEMES = {
    "light": "{resultTypes: ['violations']}",
    "dark": "{resultTypes: ['violations'], runOnly: {type: 'rule', "
    "values: ['color-contrast', 'link-in-text-block']}}",
}
SETTLED = "gatehouse-accessibility:settled"
REPORT_SWAPS = f"document.addEventListener('htmx:afterSettle', () => console.debug('{SETTLED}'));"
# What differs between two visits of the same page state without changing it.
VOLATILE = re.compile(r'(name="csrf_token" type="hidden" value=")[^"]*"|(nonce=")[^"]*"')
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
NOSCRIPT = re.compile(r"<noscript>(.*?)</noscript>", re.DOTALL | re.IGNORECASE)
DEFAULT_VIEWPORT = {"width": 1280, "height": 720}  # a browser context's own
# Page states found clean in this run (per process): each is audited once.
CLEAN: set[str] = set()


@dataclass(frozen=True)
class Snapshot:
    url: str
    html: str
    viewport: dict | None
    javascript: bool = True

    @property
    def audited_html(self) -> str:
        """The DOM as the visitor had it, without its scripts (which ran already)."""
        html = SCRIPT.sub("", self.html)
        if not self.javascript:
            # axe needs scripts on in the auditor; what <noscript> holds, this visitor saw.
            html = NOSCRIPT.sub(r"\1", html)
        return html

    @property
    def key(self) -> str:
        """The same for two snapshots axe would see alike: a page seen with and without
        JavaScript is audited once when nothing but its scripts tells them apart."""
        normalized = VOLATILE.sub(
            lambda match: (match.group(1) or match.group(2)) + '"', self.audited_html
        )
        return hashlib.sha256(f"{self.viewport}:{normalized}".encode()).hexdigest()


@dataclass
class Audit:
    snapshots: list[Snapshot] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def watch(self, context, javascript: bool = True) -> None:
        context.add_init_script(REPORT_SWAPS)
        for page in context.pages:
            self._watch_page(page, javascript)
        context.on("page", lambda page: self._watch_page(page, javascript))

    def _watch_page(self, page, javascript: bool) -> None:
        page.on("load", lambda _loaded: self._take(page, javascript))
        page.on(
            "console",
            lambda message: self._take(page, javascript) if message.text == SETTLED else None,
        )

    def _take(self, page, javascript: bool) -> None:
        try:
            if page.evaluate("document.contentType") != "text/html":
                return  # an image, JSON or plain text opened on its own
            html = page.content()
        except PlaywrightError:  # navigating on: the next page's load is taken instead
            return
        if page.url.startswith(("http://", "https://")):
            self.snapshots.append(Snapshot(page.url, html, page.viewport_size, javascript))

    def run(self, auditor) -> list[str]:
        """Audit every snapshot not audited before, in `auditor` (a page of its own); the
        violations found, one line each."""
        pending = {}
        for snapshot in self.snapshots:
            if snapshot.key not in CLEAN:
                pending.setdefault(snapshot.key, snapshot)
        self.snapshots.clear()
        for key, snapshot in pending.items():
            found = audit_snapshot(auditor, snapshot)
            if found:
                self.failures.extend(found)
            else:
                CLEAN.add(key)
        return self.failures


def audit_snapshot(auditor, snapshot: Snapshot) -> list[str]:
    auditor.set_viewport_size(snapshot.viewport or DEFAULT_VIEWPORT)
    # Under the page's own address, so that stylesheets, images and links resolve as they did.
    html = re.sub(r"<head>", f'<head><base href="{snapshot.url}">', snapshot.audited_html, count=1)
    # set_content rewrites the auditor's document in place: axe, once loaded, stays.
    auditor.set_content(html, wait_until="load")
    if not auditor.evaluate("typeof axe !== 'undefined'"):
        auditor.evaluate(AXE.read_text())
    lines = []
    for theme, options in THEMES.items():
        auditor.emulate_media(color_scheme=theme)
        violations = auditor.evaluate(
            f"async () => (await axe.run(document, {options})).violations"
            ".map(v => ({id: v.id, help: v.help, targets: v.nodes.map(n => n.target.join(' '))"
            ".slice(0, 3), detail: v.nodes.length ? v.nodes[0].failureSummary : ''}))"
        )
        lines += [
            f"{snapshot.url} [{theme}] {violation['id']}: {violation['help']} at "
            f"{', '.join(violation['targets'])}\n    {violation['detail']}"
            for violation in violations
        ]
    return lines


def axe_missing_message() -> str | None:
    if AXE.is_file():
        return None
    return f"{AXE} is missing (npm ci --prefix tests/browser)"


def audit_or_skip() -> bool:
    """True when axe-core is there; fails (CI) or tells (a laptop) when it is not."""
    missing = axe_missing_message()
    if missing and os.environ.get("IDP_REQUIRE_BROWSER") == "1":
        pytest.fail(f"IDP_REQUIRE_BROWSER=1 but {missing}", pytrace=False)
    return missing is None
