"""A browser without JavaScript for the OpenID Connect tests: it follows redirects by hand,
fills Gatehouse's sign-in and consent forms, and stops at the client's redirect URI."""

import html
import re
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from idp.applications.manage import bind, create_application
from idp.core.extensions import db
from tests.factories import PASSWORD

REDIRECT_URI = "https://rp.example.test/callback"
WITHOUT_CONSENT = "default-provider-authorization-implicit-consent"
FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]*)"', re.S)
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def make_client(app, slug="rp", public=False, authorization_flow_slug=None, **options):
    """An oauth2 application; returns (client_id, client_secret or None). Its authorization
    flow is the shipped one with a consent that expires after four weeks, unless named."""
    with app.app_context():
        created = create_application(
            slug,
            slug.upper(),
            "oauth2",
            {
                "client_type": "public" if public else "confidential",
                "redirect_uris": [REDIRECT_URI],
                **options,
            },
            authorization_flow_slug=authorization_flow_slug,
        )
        db.session.commit()
        return created.facts["client_id"], created.secrets.get("client_secret")


def bind_group(app, slug, group_name):
    from idp.applications.loading import load_application
    from idp.identity.accounts import find_group

    with app.app_context():
        bind(load_application(slug), group=find_group(group_name))
        db.session.commit()


def next_hop(response) -> str | None:
    """Where the browser goes next on its own: a redirect, or a page that moves on by itself
    (Refresh: 0; url=..., which Gatehouse sends back to an app after its own forms)."""
    if response.status_code in (301, 302, 303, 307):
        return urljoin(str(response.url), response.headers["location"])
    refresh = response.headers.get("refresh", "")
    if refresh.startswith("0; url="):
        return urljoin(str(response.url), refresh[len("0; url=") :])
    return None


class Browser:
    def __init__(self, base: str):
        self.base = base
        self.http = httpx.Client(base_url=base, follow_redirects=False, timeout=30)
        self.pages = []

    def close(self):
        self.http.close()

    def follow(self, url: str, stop_at: str = REDIRECT_URI):
        """GET and follow redirects; returns ("redirect", url) once it reaches `stop_at`,
        else ("page", response)."""
        for _hop in range(20):
            if url.startswith(stop_at):
                return "redirect", url
            response = self.http.get(url)
            onward = next_hop(response)
            if onward:
                url = onward
                continue
            self.pages.append(response)
            return "page", response
        raise AssertionError("too many redirects")

    def post_form(self, response, data: dict, stop_at: str = REDIRECT_URI):
        text = response.text
        action = html.unescape(FORM.search(text).group(1))
        form = {"csrf_token": CSRF.search(text).group(1), **data}
        answer = self.http.post(urljoin(str(response.url), action), data=form)
        onward = next_hop(answer)
        if onward:
            return self.follow(onward, stop_at)
        self.pages.append(answer)
        return "page", answer

    def authorize(self, url: str, username: str | None = None, consent: bool = True,
                  password: str = PASSWORD, stop_at: str = REDIRECT_URI):  # fmt: skip
        """Run through sign-in and consent until the client's redirect URI is reached;
        returns the final ("redirect", url) or ("page", response) where it stopped."""
        kind, result = self.follow(url, stop_at)
        for _step in range(10):
            if kind == "redirect":
                return kind, result
            text = result.text
            if 'name="uid_field"' in text and username:
                kind, result = self.post_form(result, {"uid_field": username}, stop_at)
            elif 'name="password"' in text and username:
                kind, result = self.post_form(result, {"password": password}, stop_at)
            elif "will receive" in text and consent:
                kind, result = self.post_form(result, {}, stop_at)
            else:
                return kind, result
        raise AssertionError("the flow did not end")


def query_of(url: str) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
