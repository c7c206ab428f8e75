"""The brand's values: their defaults, their one validator, and the per-worker cache.

Every page and mail reads the brand, so it is cached in each worker, under the flows revision
(a write to the brand changes it, idp/flows/revision.py). A flow's page has read the revision
to run its flow, and a signed-in visitor's page with their session (idp/sessions.py): the
cache is checked against it without a query. Other pages (an anonymous visitor's error page)
read the revision, one query; a changed revision costs one more, to reload the brand.
"""

import re
import unicodedata
from dataclasses import asdict, dataclass, fields
from urllib.parse import urlsplit

from flask import current_app, g, has_app_context, has_request_context
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from idp.brand.colors import HEX_COLOR
from idp.core.database import hold_until_commit
from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import translated
from idp.flows.revision import changed_in_this_transaction, read_revision, request_revision
from idp.models import Brand as BrandRow
from idp.models import User

BRAND_ROW = 1
BRAND_LOCK_KEY = 7_154_620_015  # names the advisory lock of hold_brand on PostgreSQL
CACHE_KEY = "gatehouse.brand"  # in app.extensions: CachedBrand
REQUEST_BRAND = "gatehouse_brand"  # in flask.g: this request's brand, read once
PLACEHOLDER = "{product_name}"
DEFAULT_ACCENT = "#2853c7"
MAX_FOOTER_LINKS = 6
MAX_LABEL_LENGTH = 40
MAX_URL_LENGTH = 300
SUBJECTS = ("sign_in_link_subject", "authenticator_added_subject", "account_exists_subject")


@dataclass(frozen=True)
class BrandSettings:
    product_name: str = "Gatehouse"
    accent_color: str = DEFAULT_ACCENT
    footer_links: tuple[tuple[str, str], ...] = ()
    mail_sender_name: str = ""
    sign_in_link_subject: str = "Your sign-in link"
    authenticator_added_subject: str = "A way to sign in was added to your account"
    account_exists_subject: str = "Someone tried to sign up with your email address"
    logo: str = ""  # a BrandFile's name, or empty
    favicon: str = ""

    def branded(self, text: str) -> str:
        """`text` with {product_name} filled in (flow titles, mail subjects), in the request's
        language when it is a shipped text."""
        return (translated(text) or "").replace(PLACEHOLDER, self.product_name)

    @property
    def footer_links_text(self) -> str:
        return "\n".join(f"{label} | {url}" for label, url in self.footer_links)


DEFAULTS = BrandSettings()
FILE_FIELDS = ("logo", "favicon")
TEXT_FIELDS = tuple(field.name for field in fields(BrandSettings) if field.name not in FILE_FIELDS)


class BrandError(ValueError):
    """A value the brand does not take; `field` names it, the message says why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _one_line(field: str, value: str, longest: int, may_be_empty: bool = False) -> str:
    cleaned = (value or "").strip()
    if not cleaned and not may_be_empty:
        raise BrandError(field, "Enter a value.")
    if len(cleaned) > longest:
        raise BrandError(field, f"At most {longest} characters.")
    # Any line break Python knows (a mail header refuses \u2028 as it refuses \n) and any
    # other control character.
    if any(unicodedata.category(character) in ("Cc", "Cs", "Zl", "Zp") for character in cleaned):
        raise BrandError(field, "One line only, without control characters.")
    return cleaned


def parse_accent_color(value: str) -> str:
    cleaned = (value or "").strip().lower()
    if not HEX_COLOR.fullmatch(cleaned):
        raise BrandError("accent_color", "Enter a colour as #rrggbb, for example #2853c7.")
    return cleaned


def parse_url(value: str, line: int) -> str:
    try:
        parts = urlsplit(value)
        if parts.port == 0:  # reading the port raises ValueError for one that is no number
            raise ValueError("port 0")
    except ValueError:
        raise BrandError("footer_links", f"Line {line}: this address cannot be read.") from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or re.search(r"\s", value)
        or not value.isprintable()
    ):
        raise BrandError(
            "footer_links", f"Line {line}: the address must start with http:// or https://."
        )
    if len(value) > MAX_URL_LENGTH:
        raise BrandError("footer_links", f"Line {line}: at most {MAX_URL_LENGTH} characters.")
    return value


def parse_footer_links(value) -> tuple[tuple[str, str], ...]:
    """One link a line, `Label | https://address`; empty lines are skipped."""
    lines = [line.strip() for line in (value or "").splitlines()]
    links = []
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        label, separator, url = (part.strip() for part in line.rpartition("|"))
        if not separator or not label or not url:
            raise BrandError("footer_links", f"Line {number}: write Label | https://address.")
        if len(label) > MAX_LABEL_LENGTH:
            raise BrandError(
                "footer_links", f"Line {number}: labels are at most {MAX_LABEL_LENGTH} characters."
            )
        links.append((label, parse_url(url, number)))
    if len(links) > MAX_FOOTER_LINKS:
        raise BrandError("footer_links", f"At most {MAX_FOOTER_LINKS} links.")
    return tuple(links)


PARSERS = {
    "product_name": lambda value: _one_line("product_name", value, 60),
    "accent_color": parse_accent_color,
    "footer_links": parse_footer_links,
    "mail_sender_name": lambda value: _one_line("mail_sender_name", value, 60, may_be_empty=True),
    **{name: lambda value, name=name: _one_line(name, value, 150) for name in SUBJECTS},
}


def parse_value(field: str, value):
    return PARSERS[field](value)


# -- reading ----------------------------------------------------------------------------------


def read_brand() -> BrandSettings:
    """The stored brand, in one query; defaults where there is no row, or for a value no
    longer valid (written by hand)."""
    row = db.session.get(BrandRow, BRAND_ROW)
    if row is None:
        return DEFAULTS
    values = {}
    for name in TEXT_FIELDS:
        stored = getattr(row, name)
        if name == "footer_links":
            stored = "\n".join(f"{label} | {url}" for label, url in stored or [])
        try:
            values[name] = parse_value(name, stored)
        except (BrandError, TypeError, ValueError):
            values[name] = getattr(DEFAULTS, name)
    return BrandSettings(**values, logo=row.logo or "", favicon=row.favicon or "")


@dataclass(frozen=True)
class CachedBrand:
    revision: str | None
    brand: BrandSettings


def current_brand() -> BrandSettings:
    """This request's brand: from the worker's cache where it is known current."""
    if not has_app_context():
        return DEFAULTS
    if has_request_context() and REQUEST_BRAND in g:
        return g.get(REQUEST_BRAND)
    try:
        brand = _cached_or_read()
    except (OperationalError, InterfaceError, PoolTimeout):
        # No database (an outage page): the last brand this worker saw, else the defaults.
        db.session.rollback()
        brand = last_known_brand()
    if has_request_context():
        setattr(g, REQUEST_BRAND, brand)
    return brand


def last_known_brand() -> BrandSettings:
    cached = current_app.extensions.get(CACHE_KEY)
    return cached.brand if cached is not None else DEFAULTS


def use_last_known_brand() -> BrandSettings:
    """For a page that must not ask the database anything (it is down)."""
    brand = last_known_brand()
    if has_request_context():
        setattr(g, REQUEST_BRAND, brand)
    return brand


def _cached_or_read() -> BrandSettings:
    session = db.session
    if changed_in_this_transaction(session):
        return read_brand()  # may still be rolled back: not for the cache
    cached = current_app.extensions.get(CACHE_KEY)
    revision = request_revision(session) or read_revision(session)
    if cached is not None and cached.revision == revision:
        return cached.brand
    brand = read_brand()
    current_app.extensions[CACHE_KEY] = CachedBrand(revision, brand)
    return brand


def forget_cached_brand() -> None:
    """After this worker wrote the brand: its next page reads it again."""
    current_app.extensions.pop(CACHE_KEY, None)
    if has_request_context():
        g.pop(REQUEST_BRAND, None)


# -- writing ----------------------------------------------------------------------------------


def hold_brand() -> None:
    """Until this transaction ends, no other writes the brand or its files: two first saves
    at once would both insert the one row, and a save that read the brand before another's
    commit would put back a logo whose file that other one deleted. Reads after it see the
    other's commit (the row is read again, not taken from the session)."""
    hold_until_commit(db.session, BRAND_LOCK_KEY)
    db.session.get(BrandRow, BRAND_ROW, populate_existing=True)


def save_brand(changes: dict, user: User | None = None, ip: str = "") -> list[str]:
    """Store the given values (each validated first: nothing is written when one is refused)
    and record what changed; the names of the changed values. Flushes; the caller commits
    and then calls forget_cached_brand()."""
    parsed = {name: parse_value(name, value) for name, value in changes.items() if name in PARSERS}
    parsed.update({name: changes[name] for name in FILE_FIELDS if name in changes})
    hold_brand()
    old = read_brand()
    new = BrandSettings(**{**asdict(old), **parsed})
    changed = [name for name in asdict(new) if getattr(old, name) != getattr(new, name)]
    if not changed:
        return []
    row = db.session.get(BrandRow, BRAND_ROW) or BrandRow(id=BRAND_ROW)
    for name, value in asdict(new).items():
        setattr(row, name, [list(link) for link in value] if name == "footer_links" else value)
    db.session.add(row)
    db.session.flush()
    record_event(
        "brand_changed",
        user=user,
        ip=ip,
        target={"kind": "brand", "id": str(BRAND_ROW), "name": new.product_name},
        before={name: _shown(getattr(old, name)) for name in changed},
        after={name: _shown(getattr(new, name)) for name in changed},
    )
    return changed


def _shown(value):
    return [f"{label} | {url}" for label, url in value] if isinstance(value, tuple) else value
