"""Whether a GET may change anything, from the browser's Fetch Metadata.

A GET changes nothing unless the browser says that this site or the user themselves
(typed, bookmarked, opened from a mail program: `Sec-Fetch-Site: none`) sent it here.
Without the header (an older browser, a webview, a script, a mail scanner) it may as well be
another site's link or image, and is treated like one: stages that act on arrival (signing
out, making recovery codes, mailing a link) and mailed links wait for a click that carries
a CSRF token instead.

A prefetch or prerender never acts either, wherever it comes from (`Sec-Purpose`, or the
older `Purpose` and `X-Moz` headers): the browser fetched the page before anyone chose to
open it, and may never show it.
"""

from flask import request

ACTING_SITES = ("same-origin", "none")


def may_act_on_get() -> bool:
    return request.headers.get("Sec-Fetch-Site") in ACTING_SITES and not _is_prefetch()


def _is_prefetch() -> bool:
    purposes = (request.headers.get(name, "") for name in ("Sec-Purpose", "Purpose", "X-Moz"))
    return any("prefetch" in purpose.lower() for purpose in purposes)
