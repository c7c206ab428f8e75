import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from idp.core.options import OptionsError

# A flow's slug, as flow files have it (idp.transfer.document, which imports the stages).
FLOW_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")

MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class RedirectOptions:
    # static: to `target_url` (an absolute http(s) address, another site as a rule).
    # flow: into the flow `target_flow`, keeping where the visitor goes afterwards (`next`).
    mode: Literal["static", "flow"] = "flow"
    target_url: str = ""
    target_flow: str = "default-authentication-flow"
    # Flow mode: the new flow starts with what this one gathered (the proved user, answers
    # to prompts), as authentik's keep_context does.
    keep_context: bool = True

    def validate(self):
        if self.mode == "static":
            if not is_absolute_web_address(self.target_url):
                raise OptionsError("target_url", "must be an absolute http:// or https:// address")
        elif not FLOW_SLUG.fullmatch(self.target_flow or ""):
            raise OptionsError("target_flow", "must be the slug of a flow")


def is_absolute_web_address(url: str) -> bool:
    if not url or len(url) > MAX_URL_LENGTH or url != url.strip():
        return False
    if any(ord(character) < 32 or character in "\\\x7f" for character in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and not parts.username
