import re

from flask import current_app, has_request_context, request

from idp.core.i18n import N_

# Where an application opens (its launch URL, an icon): a web address or a path of this site,
# nothing a browser would run (javascript:) and no spaces or control characters.
WEB_ADDRESS = re.compile(r"(https?://|/)[^\s\x00-\x1f\x7f]*\Z")
WEB_ADDRESS_RULE = N_("must start with https://, http:// or /, without spaces")


def is_web_address(value: str) -> bool:
    return WEB_ADDRESS.match(value) is not None


def base_url() -> str:
    """Gatehouse's own address: IDP_BASE_URL, else the address the request came to."""
    configured = current_app.config.get("BASE_URL") or ""
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://127.0.0.1:5000"
