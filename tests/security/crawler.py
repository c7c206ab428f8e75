"""A crawler without JavaScript: from a start page it follows this site's links (GET only,
which changes nothing) and collects every form the pages show, as a browser would send it."""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

# Pages the crawl never opens: signing out ends the very session the crawl walks with.
SKIPPED = ("/logout", "/flow/default-invalidation-flow", "/static/", "/media/")
# An id in a path: a number, or the slug of a flow or an application (one page per kind).
ID = re.compile(
    r"(?<=/)\d+(?=/|$)"
    r"|(?<=/admin/flows/)(?!new$|import$|import/)[^/]+"
    r"|(?<=/admin/applications/)(?!new(?:/|$))[^/]+"
)


@dataclass
class Form:
    page: str  # the path of the page that showed it
    action: str  # the path it posts to
    fields: dict = field(default_factory=dict)
    # Every option of each <select>, as (value, label).
    choices: dict = field(default_factory=dict)

    @property
    def shape(self) -> str:
        """The form with its ids left out: one kind of form on one kind of page."""
        return f"{kind_of(self.page)} -> {kind_of(self.action)}"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[tuple[str, dict]] = []
        self._form: dict | None = None
        self._action = ""
        self._select: str | None = None
        self._choices: dict = {}
        self._option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif tag == "form" and (attributes.get("method") or "get").lower() == "post":
            self._form, self._action, self._choices = {}, attributes.get("action") or "", {}
        elif self._form is None:
            return
        elif tag == "input" and attributes.get("name"):
            kind = (attributes.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                return
            if kind in ("submit", "button", "image", "file"):
                return
            self._form.setdefault(attributes["name"], attributes.get("value") or "")
        elif tag == "select" and attributes.get("name"):
            self._select = attributes["name"]
        elif tag == "option" and self._select:
            value = attributes.get("value") or ""
            if "selected" in attributes or self._select not in self._form:
                self._form[self._select] = value
            self._choices.setdefault(self._select, []).append([value, ""])
            self._option = self._select
        elif tag == "textarea" and attributes.get("name"):
            self._textarea = attributes["name"]
            self._form[self._textarea] = ""

    def handle_data(self, data):
        if self._option:
            self._choices[self._option][-1][1] += data.strip()
        if self._textarea:
            self._form[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "option":
            self._option = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append((self._action, self._form, self._choices))
            self._form = None


def kind_of(path: str) -> str:
    return ID.sub("{id}", urlsplit(path).path)


def read_page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


def crawl(get, starts, within, limit=400) -> list[Form]:
    """Every form on the pages reachable from `starts` by links whose path begins with one of
    `within`; one page per kind (ids left out), one form per shape. `get(path)` answers
    (status, html)."""
    seen_kinds, queue, forms = set(), list(starts), {}
    while queue and len(seen_kinds) < limit:
        path = queue.pop(0)
        kind = kind_of(path)
        if kind in seen_kinds:
            continue
        seen_kinds.add(kind)
        status, html = get(path)
        if status != 200:
            continue
        page = read_page(html)
        for action, fields, choices in page.forms:
            form = Form(path, urlsplit(urljoin(path, action)).path or path, fields, choices)
            forms.setdefault(form.shape, form)
        # A form's own address often shows the form too (a confirmation asking for the
        # password): a GET of it changes nothing.
        actions = [action or path for action, _, _ in page.forms]
        for href in page.links + actions:
            target = urlsplit(urljoin(path, href))
            if target.netloc or not target.path.startswith(within):
                continue
            if target.path.startswith(SKIPPED):
                continue
            queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return list(forms.values())
