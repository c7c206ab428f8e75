from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.core.slugs import SLUG_PATTERN

MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class RedirectOptions:
    mode: Literal["static", "flow"] = option(
        "flow",
        N_(
            "Where the visitor is sent: to a web address, or into another flow (which then "
            "goes on to where the visitor was going)."
        ),
        choices={
            "static": N_("Static: to the web address below"),
            "flow": N_("Flow: into the flow below"),
        },
    )
    target_url: str = option(
        "", N_("In static mode, the address to send the visitor to (http:// or https://).")
    )
    target_flow: str = option(
        "default-authentication-flow", N_("In flow mode, the slug of the flow to go on with.")
    )
    # As authentik's keep_context does.
    keep_context: bool = option(
        True,
        N_(
            "In flow mode, the next flow starts with what this one gathered (the proved user, "
            "answers to prompts)."
        ),
    )

    def validate(self):
        if self.mode == "static":
            if not is_absolute_web_address(self.target_url):
                raise OptionsError(
                    "target_url", N_("must be an absolute http:// or https:// address")
                )
        elif not SLUG_PATTERN.fullmatch(self.target_flow or ""):
            raise OptionsError("target_flow", N_("must be the slug of a flow"))


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
