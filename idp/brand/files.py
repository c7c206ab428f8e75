"""The logo and the favicon: uploads checked by their bytes (not their name or the type the
browser claims), stored in the database under their SHA-256, and served with headers that
let a browser keep them for good and never run anything in them.

An SVG is refused when it carries scripts, event handlers, foreign objects or references to
anything outside itself; and every file is served with `Content-Security-Policy: sandbox`,
so even an SVG that slipped through runs no script when opened on its own (as an <img>,
browsers run none anyway)."""

import hashlib
import re
from dataclasses import dataclass

from sqlalchemy import delete, select

from idp.brand.settings import BrandError, hold_brand
from idp.core.extensions import db
from idp.models import Brand as BrandRow
from idp.models import BrandFile

SVG = "image/svg+xml"
CONTENT_TYPES = {"png": "image/png", "webp": "image/webp", "ico": "image/x-icon", "svg": SVG}
KINDS = {
    # kind: (the types it takes, its largest size in bytes)
    "logo": (("png", "webp", "svg"), 256 * 1024),
    "favicon": (("png", "webp", "svg", "ico"), 64 * 1024),
}
TYPE_NAMES = {"png": "PNG", "webp": "WebP", "svg": "SVG", "ico": "ICO"}
FILE_NAME = re.compile(r"[0-9a-f]{64}\.(png|webp|ico|svg)")
# Served files: kept by browsers and proxies for a year (a new file has a new name), and inert.
FILE_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
}
SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
FORBIDDEN_SVG_ELEMENTS = {"script", "foreignobject", "iframe", "embed", "object"}
# url(...) to anything but an element of the file itself (#gradient), and @import.
OUTSIDE_REFERENCE = re.compile(r"url\(\s*['\"]?\s*(?!#)|@import", re.IGNORECASE)


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    data: bytes


def file_type(data: bytes) -> str | None:
    """png, webp, ico or svg, from the file's first bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:4] == b"\x00\x00\x01\x00":
        return "ico"
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--")) and b"<svg" in data[:4096].lower():
        return "svg"
    return None


def check_svg(field: str, data: bytes) -> None:
    """Well-formed SVG without scripts or outside references; raises BrandError."""
    # Only an upload in the admin parses XML: the workers that serve the files need no parser.
    from xml.etree import ElementTree

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BrandError(field, "The SVG must be UTF-8 text.") from None
    if "<!doctype" in text.lower() or "<!entity" in text.lower():
        raise BrandError(field, "The SVG may not declare a DOCTYPE or entities.")
    try:
        root = ElementTree.fromstring(text)  # noqa: S314 (no DOCTYPE, so no entities to expand)
    except ElementTree.ParseError:
        raise BrandError(field, "The SVG is not well-formed XML.") from None
    if root.tag not in (f"{SVG_NAMESPACE}svg", "svg"):
        raise BrandError(field, "The file's root element is not <svg>.")
    for element in root.iter():
        tag = element.tag.rpartition("}")[2].lower()
        if tag in FORBIDDEN_SVG_ELEMENTS:
            raise BrandError(field, f"The SVG contains <{tag}>, which a logo does not need.")
        for attribute, value in element.attrib.items():
            name = attribute.rpartition("}")[2].lower()
            if name.startswith("on"):
                raise BrandError(field, f"The SVG contains an event handler ({name}).")
            if name == "href" and not value.strip().startswith("#"):
                raise BrandError(field, "The SVG refers to something outside itself (href).")
            if OUTSIDE_REFERENCE.search(value):
                raise BrandError(field, "The SVG's styles refer to something outside it.")
            animated = value.strip().lower().rpartition(":")[2]
            if name == "attributename" and (animated == "href" or animated.startswith("on")):
                raise BrandError(field, "The SVG animates a link or an event handler.")
        if tag == "style" and OUTSIDE_REFERENCE.search(element.text or ""):
            raise BrandError(field, "The SVG's styles refer to something outside it.")


def checked_upload(kind: str, data: bytes) -> Upload:
    """The upload as it will be stored; raises BrandError naming what is wrong."""
    types, largest = KINDS[kind]
    allowed = ", ".join(TYPE_NAMES[name] for name in types)
    if not data:
        raise BrandError(kind, "The file is empty.")
    if len(data) > largest:
        raise BrandError(kind, f"The file is larger than {largest // 1024} KiB.")
    found = file_type(data)
    if found not in types:
        raise BrandError(kind, f"The file must be one of {allowed}.")
    if found == "svg":
        check_svg(kind, data)
    name = f"{hashlib.sha256(data).hexdigest()}.{found}"
    return Upload(name=name, content_type=CONTENT_TYPES[found], data=data)


def store(upload: Upload) -> str:
    """Keep the file (once, whatever how often it is uploaded, however many at once); its
    name."""
    hold_brand()
    if db.session.get(BrandFile, upload.name) is None:
        db.session.add(
            BrandFile(name=upload.name, content_type=upload.content_type, data=upload.data)
        )
    return upload.name


def remove_unused_files() -> None:
    """Files neither the logo nor the favicon names any more."""
    row = db.session.get(BrandRow, 1)
    used = {name for name in (row.logo, row.favicon) if name} if row else set()
    db.session.execute(delete(BrandFile).where(BrandFile.name.not_in(used)))


def stored_file(name: str) -> BrandFile | None:
    if not FILE_NAME.fullmatch(name):
        return None
    return db.session.scalar(select(BrandFile).where(BrandFile.name == name))
