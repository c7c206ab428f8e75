"""The app's static files are addressed by their content (idp/core/static_files.py): a page
names each with the digest of the file, browsers keep such an address for a year, and any
other request for the file is revalidated as before."""

import hashlib
import re
from pathlib import Path

from idp.core.static_files import Digests
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user

STATIC = Path(__file__).resolve().parents[2] / "idp" / "static"
FOR_A_YEAR = "public, max-age=31536000, immutable"


def static_addresses(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def digest_of(name: str) -> str:
    return hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]


def test_a_page_names_each_static_file_by_its_content(client):
    addresses = static_addresses(client.get("/flow/default-authentication-flow/").text)
    assert len(addresses) >= 4  # stylesheet, icon, htmx and the scripts
    for address in addresses:
        path, _, version = address.partition("?v=")
        assert version == digest_of(path.removeprefix("/static/")), address


def test_a_named_address_is_kept_for_a_year_and_others_are_asked_again(client):
    (named,) = [
        address
        for address in static_addresses(client.get("/flow/default-authentication-flow/").text)
        if "/htmx" in address
    ]
    kept = client.get(named)
    assert kept.status_code == 200 and kept.headers["Cache-Control"] == FOR_A_YEAR
    bare = named.partition("?")[0]
    assert client.get(bare).headers["Cache-Control"] == "no-cache"
    # Another release's digest (a rolling deploy): answered, never stored under that address.
    other = client.get(bare + "?v=0123456789ab")
    assert other.status_code == 200 and other.headers["Cache-Control"] == "no-store"


def test_a_signed_in_browser_gets_static_files_without_cookie_or_vary(app, client):
    """A Set-Cookie would be kept with a file cached for a year, and Vary: Cookie would make
    the browser fetch the file again whenever its cookie changes (every step of a flow)."""
    with app.app_context():
        make_user(username="viewer")
    FlowDriver(client).sign_in("viewer", PASSWORD)
    page = client.get("/me")
    assert page.status_code == 200 and "Cookie" in page.headers.get("Vary", "")
    (named,) = [address for address in static_addresses(page.text) if "/htmx" in address]
    first = client.get(named)
    again = client.get(named, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    for answer in (first, again):
        assert answer.headers["Cache-Control"] == FOR_A_YEAR
        assert "Set-Cookie" not in answer.headers
        assert "Cookie" not in answer.headers.get("Vary", "")


def test_a_changed_file_gets_a_new_address(tmp_path):
    (tmp_path / "site.css").write_text("body { color: black; }")
    before = Digests(str(tmp_path)).of("site.css")
    (tmp_path / "site.css").write_text("body { color: navy; }")
    after = Digests(str(tmp_path)).of("site.css")  # the next release's process
    assert before and after and before != after


def test_only_files_inside_the_folder_are_named(tmp_path):
    (tmp_path / "static" / "css").mkdir(parents=True)
    (tmp_path / "static" / "css" / "site.css").write_text("body {}")
    (tmp_path / "secret.txt").write_text("no")
    digests = Digests(str(tmp_path / "static"))
    assert digests.of("css/site.css") == digests.of("css/../css/site.css") is not None
    assert digests.of("../secret.txt") is None
    assert digests.of("missing.js") is None


def test_a_file_replaced_while_running_is_not_kept_under_its_old_address(tmp_path):
    (tmp_path / "app.js").write_text("one();")
    digests = Digests(str(tmp_path))
    assert digests.unchanged("app.js")
    (tmp_path / "app.js").write_text("two(); three();")
    assert not digests.unchanged("app.js")
