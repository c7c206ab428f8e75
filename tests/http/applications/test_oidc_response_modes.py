"""response_mode (OAuth 2.0 Multiple Response Type Encoding Practices, Form Post Response
Mode): the code and every error reach the client in the query (the default), the fragment,
or a form the browser posts to the redirect URI. A mode Gatehouse cannot use is an error,
sent in the query. The browser-side of form_post is in tests/browser/test_oidc_form_post.py."""

import html
import re
import secrets
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx

from tests.factories import make_group
from tests.http.applications.oidc import (
    CSRF,
    FORM,
    REDIRECT_URI,
    bind_group,
    make_client,
    next_hop,
    query_of,
)
from tests.http.applications.test_oidc_rules import authorize_url, exchange

INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
NATIVE = "com.example.app:/callback"


def posted_form(page) -> tuple[str, dict]:
    """The form a form_post page sends: its action and its hidden fields."""
    form = re.search(r'<form method="post" action="([^"]*)"[^>]*>(.*?)</form>', page.text, re.S)
    assert form, page.text[:800]
    fields = {html.unescape(k): html.unescape(v) for k, v in INPUT.findall(form.group(2))}
    return html.unescape(form.group(1)), fields


def csp_directives(response) -> dict:
    policy = response.headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split("; ")}


def test_form_post_sends_the_code_in_a_form_that_posts_itself(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    url = authorize_url(client_id, verifier, response_mode="form_post")
    kind, page = visitor.authorize(url, "alice")
    assert kind == "page" and page.status_code == 200
    action, fields = posted_form(page)
    assert action == REDIRECT_URI
    assert set(fields) == {"code", "state", "iss"}
    assert fields["state"] == "s1" and fields["iss"].endswith("/application/o/rp/")
    assert "data-submits-itself" in page.text
    assert "Continue to RP" in page.text  # the button for a browser without JavaScript
    assert page.headers["cache-control"] == "no-store"
    policy = csp_directives(page)
    # The form posts to the app, so no form-action; the rest of the site's policy holds.
    assert "form-action" not in policy
    assert policy["script-src"] == ["'self'"] and policy["base-uri"] == ["'none'"]
    token = exchange(live_server, client_id, secret, fields["code"], verifier)
    assert token.status_code == 200, token.text


def test_fragment_puts_the_answer_after_the_hash(app, live_server, visitor, alice):
    client_id, secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    url = authorize_url(client_id, verifier, response_mode="fragment")
    kind, where = visitor.authorize(url, "alice")
    assert kind == "redirect"
    parts = urlsplit(where)
    assert parts.query == ""
    answer = {key: values[0] for key, values in parse_qs(parts.fragment).items()}
    assert answer["state"] == "s1" and answer["iss"].endswith("/application/o/rp/")
    token = exchange(live_server, client_id, secret, answer["code"], verifier)
    assert token.status_code == 200, token.text


def test_query_named_is_the_default(app, visitor, alice):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_mode="query")
    kind, where = visitor.authorize(url, "alice")
    assert kind == "redirect" and query_of(where)["code"]


def test_an_unknown_mode_is_an_error_in_the_query(app, visitor, alice):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_mode="jwt")
    kind, where = visitor.authorize(url, "alice")
    assert kind == "redirect"
    answer = query_of(where)
    assert answer["error"] == "invalid_request" and "code" not in answer
    assert "response_mode" in answer["error_description"] and answer["state"] == "s1"


def test_form_post_to_an_apps_own_scheme_is_an_error_in_the_query(app, visitor, alice):
    client_id, _none = make_client(app, slug="native", public=True, redirect_uris=[NATIVE])
    url = authorize_url(
        client_id, secrets.token_urlsafe(48), redirect_uri=NATIVE, response_mode="form_post"
    )
    response = visitor.http.get(url)
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith(NATIVE + "?")
    answer = query_of(location)
    assert answer["error"] == "invalid_request" and "http or https" in answer["error_description"]


def test_a_silent_request_refused_in_form_post_mode_is_posted(app, visitor):
    client_id, _secret = make_client(app)
    url = authorize_url(
        client_id, secrets.token_urlsafe(48), prompt="none", response_mode="form_post"
    )
    page = visitor.http.get(url)
    assert page.status_code == 200
    action, fields = posted_form(page)
    assert action == REDIRECT_URI
    assert fields["error"] == "login_required" and fields["state"] == "s1"
    assert fields["iss"].endswith("/application/o/rp/")


def test_a_refusal_found_by_the_protocol_library_is_posted_too(app, visitor, alice):
    """A confidential client without PKCE: authlib refuses it, after the redirect URI was
    checked, and the error goes the way the client asked."""
    client_id, _secret = make_client(app)
    page = visitor.http.get(authorize_url(client_id, None, response_mode="form_post"))
    assert page.status_code == 200
    _action, fields = posted_form(page)
    assert fields["error"] == "invalid_request" and "PKCE" in fields["error_description"]
    assert fields["state"] == "s1" and "iss" in fields


def only_for_others(app):
    with app.app_context():
        make_group("others")
    bind_group(app, "rp", "others")


def test_the_no_access_page_returns_by_form(app, visitor, alice):
    client_id, _secret = make_client(app)
    only_for_others(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_mode="form_post")
    kind, page = visitor.authorize(url, "alice")
    assert kind == "page" and page.status_code == 403
    assert "You may not use RP" in page.text
    action, fields = posted_form(page)
    assert action == REDIRECT_URI
    assert fields["error"] == "access_denied" and fields["state"] == "s1"
    assert "form-action" not in csp_directives(page)


def test_the_no_access_page_links_back_with_a_fragment(app, visitor, alice):
    client_id, _secret = make_client(app)
    only_for_others(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_mode="fragment")
    _kind, page = visitor.authorize(url, "alice")
    assert page.status_code == 403
    back = html.unescape(re.search(r'<a href="(https://rp\.example\.test[^"]*)"', page.text)[1])
    assert back.startswith(REDIRECT_URI + "#") and "error=access_denied" in back
    assert "form-action 'self'" in page.headers["content-security-policy"]


def test_the_state_is_escaped_in_the_form(app, visitor, alice):
    client_id, _secret = make_client(app)
    state = '"><script>alert(1)</script>'
    url = authorize_url(
        client_id, secrets.token_urlsafe(48), response_mode="form_post", state=state
    )
    kind, page = visitor.authorize(url, "alice")
    assert kind == "page" and "<script>alert(1)" not in page.text
    assert posted_form(page)[1]["state"] == state


def test_discovery_names_the_three_modes(app, live_server):
    make_client(app)
    document = httpx.get(live_server("/application/o/rp/.well-known/openid-configuration"))
    assert document.json()["response_modes_supported"] == ["query", "fragment", "form_post"]


def test_gatehouses_own_refusals_follow_the_mode(app, visitor, alice):
    """Errors Gatehouse finds itself (not authlib): a bad max_age posted, an unsupported
    request object in the fragment."""
    client_id, _secret = make_client(app)
    verifier = secrets.token_urlsafe(48)
    page = visitor.http.get(
        authorize_url(client_id, verifier, max_age="abc", response_mode="form_post")
    )
    _action, fields = posted_form(page)
    assert fields["error"] == "invalid_request" and "max_age" in fields["error_description"]
    assert fields["state"] == "s1" and "iss" in fields
    answer = visitor.http.get(
        authorize_url(client_id, verifier, request="eyJ.x.y", response_mode="fragment")
    )
    assert answer.status_code == 302
    where = urlsplit(answer.headers["location"])
    assert where.query == ""
    assert parse_qs(where.fragment)["error"] == ["request_not_supported"]


def test_declining_at_consent_is_posted(app, visitor, alice):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_mode="form_post")
    kind, page = visitor.authorize(url, "alice", consent=False)
    assert kind == "page" and "will receive" in page.text
    deny = html.unescape(FORM.findall(page.text)[1])
    answer = visitor.http.post(
        urljoin(str(page.url), deny),
        data={"csrf_token": CSRF.search(page.text).group(1), "decision": "decline"},
    )
    kind, posted = visitor.follow(next_hop(answer))
    assert kind == "page" and posted.status_code == 200
    action, fields = posted_form(posted)
    assert action == REDIRECT_URI
    assert fields["error"] == "access_denied" and "code" not in fields


def test_a_repeated_mode_is_an_error(app, visitor, alice):
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48)) + "&response_mode=query" * 2
    kind, where = visitor.authorize(url, "alice")
    assert kind == "redirect"
    answer = query_of(where)
    assert answer["error"] == "invalid_request" and "more than once" in answer["error_description"]


def test_only_the_app_may_frame_the_answer_page(app, visitor, alice):
    """A silent sign-in in an iframe of the app gets its answer; no other site may frame it."""
    client_id, _secret = make_client(app)
    url = authorize_url(client_id, secrets.token_urlsafe(48), response_mode="form_post")
    _kind, page = visitor.authorize(url, "alice")
    assert csp_directives(page)["frame-ancestors"] == ["'self'", "https://rp.example.test"]
