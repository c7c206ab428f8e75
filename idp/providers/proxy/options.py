"""A proxy (forward auth) provider's settings."""

import dataclasses
import re
from typing import Literal
from urllib.parse import urlsplit

from idp.core.i18n import N_
from idp.core.options import OptionsError

HEADER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,63}\Z")
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,100}\Z")
# Headers Gatehouse always sets itself, and hop-by-hop or framing headers no app should get
# from an attribute.
RESERVED_HEADERS = frozenset(
    name.lower()
    for name in (
        "Remote-User",
        "Remote-Groups",
        "Remote-Email",
        "Remote-Name",
        "Location",
        "Set-Cookie",
        "Cookie",
        "Host",
        "Content-Length",
        "Content-Type",
        "Transfer-Encoding",
        "Connection",
    )
)


@dataclasses.dataclass(frozen=True)
class ProxyOptions:
    # Where the app is reached, as the browser sees it: https://app.example.org
    external_host: str = ""
    # single: only this host (and path prefix); domain: every host under external_host's
    # domain that no single-host application claims.
    mode: Literal["single", "domain"] = "single"
    # Only URLs under this path belong to the application ("" or "/": the whole host).
    path_prefix: str = ""
    # Extra identity headers, one "Header-Name: attribute_key" each: the value of that key in
    # the user's attributes (left out when the user has none).
    extra_headers: tuple[str, ...] = ()

    def validate(self) -> None:
        parts = urlsplit(self.external_host)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OptionsError(
                "external_host", N_("must be an address such as https://app.example.org")
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
            raise OptionsError(
                "external_host",
                N_("must be only a scheme and a host (put a path in path_prefix)"),
            )
        if self.path_prefix and not self.path_prefix.startswith("/"):
            raise OptionsError("path_prefix", N_("must start with /"))
        for line in self.extra_headers:
            header, _, attribute = line.partition(":")
            header, attribute = header.strip(), attribute.strip()
            if not isinstance(header, str) or not HEADER_NAME.match(header):
                raise OptionsError(
                    "extra_headers", N_("%(header)s is not a header name"), header=repr(header)
                )
            if header.lower() in RESERVED_HEADERS:
                raise OptionsError(
                    "extra_headers", N_("%(header)s is set by Gatehouse itself"), header=header
                )
            if not isinstance(attribute, str) or not ATTRIBUTE_KEY.match(attribute):
                raise OptionsError(
                    "extra_headers",
                    N_("%(header)s: %(attribute)s is not an attribute key"),
                    header=header,
                    attribute=repr(attribute),
                )

    @property
    def header_attributes(self) -> tuple[tuple[str, str], ...]:
        pairs = (line.partition(":") for line in self.extra_headers)
        return tuple((header.strip(), attribute.strip()) for header, _, attribute in pairs)

    @property
    def origin(self) -> str:
        parts = urlsplit(self.external_host)
        return f"{parts.scheme}://{parts.netloc.lower()}"

    @property
    def host(self) -> str:
        return (urlsplit(self.external_host).hostname or "").lower()

    @property
    def prefix(self) -> str:
        return self.path_prefix.rstrip("/")
