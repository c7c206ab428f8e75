"""Open redirects: whatever `next` a link carries, signing in ends on this site."""

from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

from tests.factories import PASSWORD
from tests.security.visitor import AUTH

HOSTILE_NEXT = [
    "//evil.com",
    "///evil.com",
    "https://evil.com",
    "http://evil.com/",
    "https:evil.com",
    "http:/\\evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "%2F%2Fevil.com",
    "/%2F%2Fevil.com",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "/\t/evil.com",
    "/\n/evil.com",
    "\t//evil.com",
    " //evil.com",
    "/\r\nLocation: https://evil.com",
    "//evil.com@127.0.0.1",
    "\uff0f\uff0fevil.com",  # fullwidth solidus
    "/\u2215evil.com",  # division slash
    "/\u3002evil.com",
    "//evil\u3002com",
]


def is_on_site(server, location: str) -> bool:
    """As a browser resolves it: backslashes count as slashes, tabs and newlines vanish."""
    cleaned = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
    absolute = urlsplit(urljoin(server.url + "/flow/x/", cleaned.strip()))
    site = urlsplit(server.url)
    return (absolute.scheme, absolute.netloc) == (site.scheme, site.netloc)


def final_location(visitor, start: str, htmx: bool) -> str:
    """Sign in from `start` (an entrance or a flow URL) and return where the browser is sent."""
    response = visitor.get(start)
    while response.status_code in (302, 303):  # the entrance leads to the flow
        response = visitor.get(response.headers["Location"])
    visitor.submit(AUTH, {"uid_field": "alice"})
    headers = {"HX-Request": "true"} if htmx else {}
    response = visitor.post(f"/flow/{AUTH}/", {"password": PASSWORD}, headers=headers)
    return response.headers["HX-Redirect" if htmx else "Location"]


def test_a_same_site_next_is_followed(new_visitor, alice):
    visitor = new_visitor()
    location = final_location(visitor, "/login?next=%2Fme%3Ftab%3Dsessions", htmx=False)
    assert location == "/me?tab=sessions"


def test_no_next_value_leads_off_the_site_after_sign_in(server, new_visitor, alice):
    off_site = []
    for number, value in enumerate(HOSTILE_NEXT):
        visitor = new_visitor()
        htmx = number % 2 == 1  # HX-Redirect at the end for half of them, a 303 for the rest
        location = final_location(visitor, f"/flow/{AUTH}/?{urlencode({'next': value})}", htmx)
        if not is_on_site(server, location):
            off_site.append((value, location))
        visitor.close()
    assert off_site == []


def test_the_entrance_passes_on_no_next_value_that_leads_off_the_site(server, visitor):
    passed_on = []
    for entrance in ("/login", "/logout", "/enroll", "/recover"):
        for value in HOSTILE_NEXT:
            response = visitor.get(entrance, params={"next": value})
            assert response.status_code in (302, 303)
            kept = parse_qs(urlsplit(response.headers["Location"]).query).get("next", [])
            if any(not is_on_site(server, next_url) for next_url in kept):
                passed_on.append((entrance, value, kept))
    assert passed_on == []
