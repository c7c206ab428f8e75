"""The accessibility audit itself (accessibility.py): it finds what axe-core finds, in the
theme where it is, so a clean run of the browser suite means something."""

import pytest

from tests.browser.accessibility import AXE, Snapshot, audit_or_skip, audit_snapshot

DARK_ONLY_PROBLEM = """<!doctype html><html lang="en"><head><title>Probe</title>
<style>p { color: #1d2330; background: #ffffff; }
@media (prefers-color-scheme: dark) { p { color: #333333; background: #000000; } }</style>
</head><body><main><h1>Probe</h1><p>Readable in the light theme only.</p></main></body></html>"""
MISSING_ALT = """<!doctype html><html lang="en"><head><title>Probe</title></head>
<body><main><h1>Probe</h1><img src="/static/favicon.svg"></main></body></html>"""


@pytest.fixture
def auditor(browser, live_server):
    if not audit_or_skip():
        pytest.skip(f"{AXE} is missing (npm ci --prefix tests/browser)")
    context = browser.new_context()
    yield context.new_page(), live_server.url + "/probe"
    context.close()


def test_a_contrast_problem_of_the_dark_theme_alone_is_found_in_the_dark_theme(auditor):
    page, url = auditor
    found = audit_snapshot(page, Snapshot(url, DARK_ONLY_PROBLEM, None))
    assert len(found) == 1
    assert "[dark] color-contrast" in found[0] and url in found[0]


def test_an_image_without_alternative_text_is_found_once_the_theme_does_not_decide_it(auditor):
    page, url = auditor
    found = audit_snapshot(page, Snapshot(url, MISSING_ALT, None))
    assert [line.split(" ")[1:3] for line in found] == [["[light]", "image-alt:"]]


def test_one_auditor_audits_each_snapshot_on_its_own(auditor):
    """axe is loaded once per auditor page; a problem of one snapshot is not reported for the
    next, and each is found again when it comes back."""
    page, url = auditor
    clean = DARK_ONLY_PROBLEM.replace("color: #333333", "color: #eeeeee")
    for html, expected in ((MISSING_ALT, 1), (clean, 0), (DARK_ONLY_PROBLEM, 1), (clean, 0)):
        assert len(audit_snapshot(page, Snapshot(url, html, None))) == expected


def test_scripts_in_a_snapshot_do_not_run_again(auditor):
    page, url = auditor
    html = MISSING_ALT.replace("<main>", '<main><script>document.title = "ran"</script>')
    audit_snapshot(page, Snapshot(url, html, None))
    assert page.title() == "Probe"


def test_what_noscript_holds_is_audited_for_a_page_seen_without_javascript(auditor):
    page, url = auditor
    html = MISSING_ALT.replace('<img src="/static/favicon.svg">', "").replace(
        "</main>", '<noscript><img src="/static/favicon.svg"></noscript></main>'
    )
    assert audit_snapshot(page, Snapshot(url, html, None, javascript=True)) == []
    found = audit_snapshot(page, Snapshot(url, html, None, javascript=False))
    assert len(found) == 1 and "image-alt" in found[0]


def test_a_page_is_audited_once_for_what_axe_would_see_of_it():
    """Scripts are not audited, so a page seen with and without JavaScript is one audit; what
    <noscript> holds, a different viewport or other content make another."""
    url = "http://127.0.0.1/probe"
    with_script = MISSING_ALT.replace("<main>", "<main><script>go()</script>")
    noscript = MISSING_ALT.replace("</main>", "<noscript><p>Turn it on</p></noscript></main>")
    key = Snapshot(url, MISSING_ALT, None, javascript=True).key
    assert Snapshot(url, with_script, None, javascript=False).key == key
    assert Snapshot(url, noscript, None, javascript=True).key != key
    assert (
        Snapshot(url, noscript, None, javascript=False).key
        != Snapshot(url, noscript, None, javascript=True).key
    )
    assert Snapshot(url, MISSING_ALT, {"width": 390, "height": 844}).key != key
    assert Snapshot(url, DARK_ONLY_PROBLEM, None).key != key
