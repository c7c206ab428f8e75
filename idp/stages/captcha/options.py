from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from idp.core.options import OptionsError

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class CaptchaOptions:
    # builtin: a distorted-characters picture served by Gatehouse, works without JavaScript.
    # provider: a hosted widget (needs JavaScript in the visitor's browser).
    mode: Literal["builtin", "provider"] = "builtin"
    provider: Literal["turnstile", "hcaptcha", "recaptcha"] = "turnstile"
    site_key: str = ""
    # Kept in the stage's options in the database; never rendered into a page.
    secret_key: str = ""
    # Empty: the provider's own addresses.
    verify_url: str = ""
    provider_script_url: str = ""
    failed_attempts_before_cancel: int = 5

    def validate(self):
        if not 1 <= self.failed_attempts_before_cancel <= 1000:
            raise OptionsError("failed_attempts_before_cancel", "must be between 1 and 1000")
        if self.mode != "provider":
            return
        for name in ("site_key", "secret_key"):
            if not getattr(self, name).strip():
                raise OptionsError(name, "is required in provider mode")
        for name in ("verify_url", "provider_script_url"):
            url = getattr(self, name)
            if url and not _is_safe_url(url):
                raise OptionsError(name, "must be an https:// address (http:// only on loopback)")


def _is_safe_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
