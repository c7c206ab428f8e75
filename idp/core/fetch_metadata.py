"""Whether a GET may change anything, from the browser's Fetch Metadata.

A GET changes nothing unless the browser says that this site or the user themselves
(typed, bookmarked, opened from a mail program: `Sec-Fetch-Site: none`) sent it here.
Without the header (an older browser, a webview, a script, a mail scanner) it may as well be
another site's link or image, and is treated like one: stages that act on arrival (signing
out, making recovery codes, mailing a link) and mailed links wait for a click that carries
a CSRF token instead.
"""

from flask import request

ACTING_SITES = ("same-origin", "none")


def may_act_on_get() -> bool:
    return request.headers.get("Sec-Fetch-Site") in ACTING_SITES
