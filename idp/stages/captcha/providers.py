"""The hosted captcha services. All three use the same protocol: a widget that needs the
provider's script puts a token into the form, and the server asks the provider's siteverify
URL (POST secret, response, remoteip) whether it is good: JSON {"success": true|false}."""

import json
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from flask import after_this_request

from idp.core.http import sent_by_htmx
from idp.identity.security import CONTENT_SECURITY_POLICY

VERIFY_TIMEOUT = 10
MAX_ANSWER_BYTES = 64 * 1024
# Where a provider's widget needs to load from; added to this page's policy only.
WIDENED_DIRECTIVES = ("script-src", "frame-src", "connect-src", "style-src")


@dataclass(frozen=True)
class Provider:
    widget_class: str
    # The form field the widget fills in.
    response_field: str
    script_url: str
    verify_url: str
    sources: tuple[str, ...]


PROVIDERS = {
    "turnstile": Provider(
        widget_class="cf-turnstile",
        response_field="cf-turnstile-response",
        script_url="https://challenges.cloudflare.com/turnstile/v0/api.js",
        verify_url="https://challenges.cloudflare.com/turnstile/v0/siteverify",
        sources=("https://challenges.cloudflare.com",),
    ),
    "hcaptcha": Provider(
        widget_class="h-captcha",
        response_field="h-captcha-response",
        script_url="https://js.hcaptcha.com/1/api.js",
        verify_url="https://api.hcaptcha.com/siteverify",
        sources=("https://hcaptcha.com", "https://*.hcaptcha.com"),
    ),
    "recaptcha": Provider(
        widget_class="g-recaptcha",
        response_field="g-recaptcha-response",
        script_url="https://www.google.com/recaptcha/api.js",
        verify_url="https://www.google.com/recaptcha/api/siteverify",
        sources=("https://www.google.com", "https://www.gstatic.com"),
    ),
}


def script_url(options) -> str:
    return options.provider_script_url or PROVIDERS[options.provider].script_url


def verify(options, token: str, remote_ip: str) -> bool | None:
    """True or False as the provider says; None when it could not be asked or answered
    nonsense (the caller fails closed)."""
    body = urlencode(
        {"secret": options.secret_key, "response": token, "remoteip": remote_ip}
    ).encode()
    url = options.verify_url or PROVIDERS[options.provider].verify_url
    # The scheme is https (or http on loopback): the options were checked when parsed.
    outgoing = urllib.request.Request(url, data=body, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with urllib.request.urlopen(outgoing, timeout=VERIFY_TIMEOUT) as answer:  # noqa: S310
            verdict = json.loads(answer.read(MAX_ANSWER_BYTES))
    except (OSError, ValueError):
        return None
    if not isinstance(verdict, dict) or not isinstance(verdict.get("success"), bool):
        return None
    return verdict["success"]


def allow_widget(options) -> None:
    """Let this response load the provider's widget: its origins join this page's content
    security policy, and an HTMX swap becomes a full page load (a swapped-in fragment would
    run under the previous page's policy)."""
    sources = _sources(options)
    is_partial = sent_by_htmx()

    @after_this_request
    def widen(response):
        response.headers["Content-Security-Policy"] = widened_policy(
            CONTENT_SECURITY_POLICY, sources
        )
        if is_partial:
            response.headers["HX-Refresh"] = "true"
        return response


def widened_policy(policy: str, sources) -> str:
    directives = {}
    for part in policy.split(";"):
        name, *values = part.split()
        directives[name] = values
    for name in WIDENED_DIRECTIVES:
        values = directives.get(name) or ["'self'"]
        directives[name] = values + [source for source in sources if source not in values]
    return "; ".join(" ".join([name, *values]) for name, values in directives.items())


def _sources(options) -> tuple[str, ...]:
    parts = urlsplit(script_url(options))
    own = f"{parts.scheme}://{parts.netloc}"
    known = PROVIDERS[options.provider].sources
    return known if own in known else (*known, own)
