from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from idp.core.i18n import N_
from idp.core.options import OptionsError, option

LOOPBACK_HOSTS = {"127.0.0.1", "::1", "localhost"}


@dataclass(frozen=True)
class CaptchaOptions:
    mode: Literal["builtin", "provider"] = option(
        "builtin",
        N_(
            "Built in: a picture of distorted characters served by Gatehouse, which works without "
            "JavaScript. Provider: a hosted widget, which needs JavaScript in the visitor's "
            "browser "
            "and the keys below."
        ),
        choices={
            "builtin": N_("Built in: a picture served by Gatehouse"),
            "provider": N_("Provider: a hosted widget (needs JavaScript)"),
        },
    )
    provider: Literal["turnstile", "hcaptcha", "recaptcha"] = option(
        "turnstile",
        N_("Whose widget to show, in provider mode."),
        choices={
            "turnstile": N_("Cloudflare Turnstile"),
            "hcaptcha": N_("hCaptcha"),
            "recaptcha": N_("Google reCAPTCHA"),
        },
    )
    site_key: str = option("", N_("The public site key the provider gave you (provider mode)."))
    # Kept in the stage's options in the database; never rendered into a page.
    secret_key: str = option(
        "", N_("The secret key the provider gave you (provider mode). Never shown on a page.")
    )
    verify_url: str = option(
        "",
        N_(
            "Where answers are checked. Leave it empty for the provider's own address; set it "
            "only for a compatible service of your own (https://)."
        ),
    )
    provider_script_url: str = option(
        "",
        N_(
            "Where the widget's script is loaded from. Leave it empty for the provider's own "
            "address."
        ),
    )
    failed_attempts_before_cancel: int = option(
        5, N_("Wrong answers allowed (1 to 1000) before the flow stops and must be started again.")
    )

    def validate(self):
        if not 1 <= self.failed_attempts_before_cancel <= 1000:
            raise OptionsError("failed_attempts_before_cancel", N_("must be between 1 and 1000"))
        if self.mode != "provider":
            return
        for name in ("site_key", "secret_key"):
            if not getattr(self, name).strip():
                raise OptionsError(name, N_("is required in provider mode"))
        for name in ("verify_url", "provider_script_url"):
            url = getattr(self, name)
            if url and not _is_safe_url(url):
                raise OptionsError(
                    name, N_("must be an https:// address (http:// only on loopback)")
                )


def _is_safe_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS)
