"""After the initial setup the new administrator is offered a second factor at once: a page
with the authenticator app and passkey setups and a "Later" link; set up, it says so."""

import re
from html import unescape

import pyotp
import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.credentials import authenticators
from idp.models import User
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_user
from tests.http.stages.test_authenticators import TOTP_SETUP, Clock, otpauth_uri
from tests.http.test_initial_setup import ADMIN, SETUP

OFFER = "/me/second-factor?next=/admin/"


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def links(page: str) -> dict[str, str]:
    return {
        unescape(label.strip()): unescape(url)
        for url, label in re.findall(r'<a[^>]*href="([^"]+)"[^>]*>([^<]+)</a>', page)
    }


def set_up_from_the_front_page(flows: FlowDriver):
    """The first visitor opens the site and finishes the initial setup."""
    entrance = flows.client.get("/").headers["Location"]
    flows.client.get(entrance)
    flows.open(SETUP, next_url=OFFER)
    return flows.submit(SETUP, ADMIN, next_url=OFFER)


def test_the_initial_setup_ends_at_the_offer_of_a_second_factor(flows):
    response = set_up_from_the_front_page(flows)
    assert response.headers["Location"] == OFFER
    page = flows.client.get(OFFER).get_data(as_text=True)
    assert "Protect your account with a second factor" in page
    offered = links(page)
    assert offered["Set up an authenticator app"].startswith(f"/flow/{TOTP_SETUP}/?next=")
    assert offered["Set up a passkey or security key"].startswith(
        "/flow/default-authenticator-webauthn-setup/?next="
    )
    assert offered["Later"] == "/admin/"
    assert flows.client.get("/admin/").status_code == 200  # later: nothing is forced


def test_setting_up_an_app_from_the_offer_comes_back_to_say_so(app, flows, clock):
    set_up_from_the_front_page(flows)
    setup = links(flows.client.get(OFFER).get_data(as_text=True))["Set up an authenticator app"]
    flows.page = flows.client.get(setup).get_data(as_text=True)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', flows.page).group(1)
    response = flows.client.post(setup, data={"csrf_token": token, "code": clock.code(totp)})
    assert response.headers["Location"] == OFFER
    page = flows.client.get(OFFER).get_data(as_text=True)
    assert "Your account has a second factor" in page
    assert links(page)["Continue"] == "/admin/"
    with app.app_context():
        admin = db.session.scalar(select(User).where(User.username == "admin"))
        assert authenticators.TOTP in authenticators.kinds_of(admin)
    dashboard = flows.client.get("/admin/").get_data(as_text=True)
    assert 'id="concern-mfa"' not in dashboard


def test_setup_from_its_printed_link_lands_on_an_account_page_that_offers_it_too(flows):
    flows.open(SETUP)
    assert flows.submit(SETUP, ADMIN).headers["Location"] == "/me"
    assert flows.client.get("/").headers["Location"] == "/me"
    page = flows.client.get("/me").get_data(as_text=True)
    assert "Your administrator account has no second factor" in page
    assert links(page)["Protect your account"] == "/me/second-factor"


def test_a_plain_users_account_page_does_not_nag(app, client):
    with app.app_context():
        make_user("alice")
    flows = FlowDriver(client)
    flows.sign_in("alice", PASSWORD)
    assert "second-factor-offer" not in client.get("/me").get_data(as_text=True)


def test_the_offer_needs_a_signed_in_user_and_a_same_site_next(app, client):
    assert client.get(OFFER).headers["Location"].startswith("/login?next=")
    with app.app_context():
        make_user("alice")
    FlowDriver(client).sign_in("alice", PASSWORD)
    page = client.get("/me/second-factor?next=https://evil.example/").get_data(as_text=True)
    assert links(page)["Later"] == "/me"
