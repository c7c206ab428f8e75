"""A browser without JavaScript, over real HTTP: a cookie jar, pages, and forms posted with
the CSRF token read from the page they came from."""

import base64
import re
import zlib
from html import unescape
from urllib.parse import urlsplit

import httpx

from tests.conftest import csrf_token, stage_of
from tests.factories import PASSWORD
from tests.smtp_server import link_in

AUTH = "default-authentication-flow"
COOKIE_NAMES = ("gatehouse_session", "__Host-gatehouse_session")


def read_cookie(value: str) -> str:
    """What anyone holding the session cookie can read, without the key: Flask's payload is
    base64 (zlib-compressed when it starts with a dot), the signature only guards changes."""
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".", 1)[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(data) if compressed else data).decode("utf-8")


class Visitor:
    """A current browser: it sends Sec-Fetch-Site: same-origin, as when following this site's
    own links. `fetch_metadata=False` is an older browser or a webview, which sends none."""

    def __init__(self, server, headers=None, fetch_metadata=True):
        self.server = server
        sent = {"Sec-Fetch-Site": "same-origin"} if fetch_metadata else {}
        # verify=False: the HTTPS tests serve a throwaway self-signed certificate.
        self.http = httpx.Client(
            base_url=server.url,
            verify=False,  # noqa: S501
            timeout=30,
            headers={**sent, **(headers or {})},
        )
        self.page = ""
        self.page_url = ""

    def close(self):
        self.http.close()

    # -- requests ------------------------------------------------------------------------------

    def get(self, path: str, **kwargs) -> httpx.Response:
        response = self.http.get(path, **kwargs)
        self.page, self.page_url = response.text, str(response.url)
        return response

    def post(self, path: str, fields: dict, csrf=True, headers=None, **kwargs) -> httpx.Response:
        """POST the fields with the CSRF token of the page shown last (unless csrf=False), and
        that page as the Referer, as browsers do (Flask-WTF checks it over HTTPS)."""
        form = dict(fields)
        if csrf:
            form.setdefault("csrf_token", csrf_token(self.page))
        headers = {"Referer": self.page_url, **(headers or {})} if self.page_url else headers
        response = self.http.post(path, data=form, headers=headers, **kwargs)
        self.page, self.page_url = response.text, str(response.url)
        return response

    def open(self, slug: str, next_url: str | None = None) -> httpx.Response:
        params = {"next": next_url} if next_url is not None else None
        return self.get(f"/flow/{slug}/", params=params)

    def submit(self, slug: str, fields: dict, csrf=True, next_url=None) -> httpx.Response:
        """Answer the flow's current stage; a 303 back to a flow is followed, as a browser does."""
        params = {"next": next_url} if next_url is not None else None
        response = self.post(f"/flow/{slug}/", fields, csrf=csrf, params=params)
        if response.status_code == 303 and location_path(response).startswith("/flow/"):
            self.get(response.headers["Location"])
        return response

    def sign_in(self, username: str, password: str = PASSWORD, slug=AUTH) -> httpx.Response:
        self.open(slug)
        self.submit(slug, {"uid_field": username})
        return self.submit(slug, {"password": password})

    # -- what the browser sees -----------------------------------------------------------------

    @property
    def stage(self) -> str:
        return stage_of(self.page)

    @property
    def text(self) -> str:
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", self.page)).split())

    @property
    def is_signed_in(self) -> bool:
        return self.http.get("/me").status_code == 200

    @property
    def cookie(self) -> str:
        """The raw session cookie ('' when there is none)."""
        for name in COOKIE_NAMES:
            value = self.http.cookies.get(name)
            if value:
                return value
        return ""

    @property
    def cookie_text(self) -> str:
        return read_cookie(self.cookie) if self.cookie else ""

    def with_cookie(self, value: str) -> "Visitor":
        """Another browser holding a copy of this cookie value (a stolen or replayed one)."""
        other = Visitor(self.server)
        name = COOKIE_NAMES[1] if self.server.url.startswith("https") else COOKIE_NAMES[0]
        other.http.cookies.set(name, value, domain=urlsplit(self.server.url).hostname)
        other.page, other.page_url = self.page, self.page_url
        return other


def location_path(response: httpx.Response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def open_mailed_link(visitor, mailbox, count: int) -> str:
    """Open the newest mailed link as a mail program does; returns its token."""
    path = urlsplit(link_in(mailbox.wait_for(count)[-1])).path
    response = visitor.get(path, headers={"Sec-Fetch-Site": "none"})
    assert response.status_code == 303
    visitor.get(response.headers["Location"])
    return path.rsplit("/", 1)[1]
