"""Behind a proxy: which forwarded headers count (scheme, request id), from whom."""

import ipaddress
import re

import pytest

AUTH = "/flow/default-authentication-flow/"
PROXY = "10.0.0.5"
STRANGER = "198.51.100.7"


@pytest.fixture
def behind_proxy(app):
    app.config["TRUSTED_PROXIES"] = (ipaddress.ip_network("10.0.0.0/8"),)
    return app


def session_cookie(response) -> str:
    return next(v for v in response.headers.getlist("Set-Cookie") if "gatehouse_session=" in v)


def test_https_forwarded_by_a_trusted_proxy_gives_secure_host_cookies(behind_proxy, client):
    response = client.get(
        AUTH, headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": PROXY}
    )
    cookie = session_cookie(response)
    assert cookie.startswith("__Host-gatehouse_session=") and "Secure" in cookie
    assert "Strict-Transport-Security" in response.headers


@pytest.mark.parametrize("remote", [STRANGER, "127.0.0.1"])
def test_https_claimed_by_anyone_else_is_ignored(behind_proxy, client, remote):
    response = client.get(
        AUTH, headers={"X-Forwarded-Proto": "https"}, environ_base={"REMOTE_ADDR": remote}
    )
    cookie = session_cookie(response)
    assert cookie.startswith("gatehouse_session=") and "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers


def test_without_trusted_proxies_no_forwarded_scheme_counts(client):
    response = client.get(AUTH, headers={"X-Forwarded-Proto": "https"})
    assert session_cookie(response).startswith("gatehouse_session=")


def test_every_answer_carries_a_fresh_request_id(client):
    first, second = client.get("/healthz"), client.get("/nowhere")
    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert second.status_code == 404
    assert second.headers["X-Request-ID"] != first.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("remote", "sent", "kept"),
    [
        (PROXY, "0f6c2d1e-nginx-request-id", True),
        (PROXY, 'bad id with spaces and "quotes"', False),
        (PROXY, "short", False),
        (STRANGER, "0f6c2d1e-nginx-request-id", False),
    ],
)
def test_a_request_id_is_taken_only_from_a_trusted_proxy_and_only_if_safe(
    behind_proxy, client, remote, sent, kept
):
    response = client.get(
        "/healthz", headers={"X-Request-ID": sent}, environ_base={"REMOTE_ADDR": remote}
    )
    assert (response.headers["X-Request-ID"] == sent) is kept


@pytest.mark.parametrize(
    ("referrer", "refused"),
    [(None, True), ("https://elsewhere.example/", True), ("https://localhost/flow/", False)],
)
def test_over_https_a_form_without_this_sites_referer_says_so(client, referrer, refused):
    """Flask-WTF's strict check over HTTPS: trying again would fail alike, so the page names
    the missing Referer instead of calling the form expired."""
    from tests.conftest import csrf_token

    page = client.get(AUTH, base_url="https://localhost")
    headers = {"Referer": referrer} if referrer else {}
    response = client.post(
        AUTH,
        base_url="https://localhost",
        headers=headers,
        data={"csrf_token": csrf_token(page.get_data(as_text=True)), "uid_field": "nobody"},
    )
    said = "the browser sent no Referer header" in response.get_data(as_text=True)
    assert (response.status_code == 400 and said) is refused
    assert "The form had expired" not in response.get_data(as_text=True)
