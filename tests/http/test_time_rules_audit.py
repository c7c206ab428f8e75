"""Time rules the other time tests did not reach, with the clock moved (time-machine): a user
who comes back to an old page of an application's authorization flow, the mailed sign-in
link's hour, and how long a retired signing key stays published."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Consent, PlanEffect, SigningKey, UserSession
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, make_user
from tests.http.applications.oidc import REDIRECT_URI, make_client
from tests.http.applications.test_oidc_rules import authorize_url
from tests.http.mail.test_sign_in_proof import fail_a_long_run, guess, proof_links

AUTH = "default-authentication-flow"
PLAN_LIFETIME = timedelta(seconds=1800)  # IDP_FLOW_PLAN_LIFETIME's default
SECOND = timedelta(seconds=1)
EXPIRED = "That step had expired, so we started again."
NAMES_THE_APPLICATION = "RP asks to sign you in and will receive"
FORM_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


@pytest.fixture
def app(mailbox, app):
    return app


@pytest.fixture
def alice(app, clock):
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


def words(flows) -> str:
    return " ".join(flows.text.split())


def follow(client, response, limit=8):
    """Follow redirects (HX-Redirect too) inside Gatehouse until a page is shown."""
    for _ in range(limit):
        target = response.headers.get("Location") or response.headers.get("HX-Redirect")
        if not target:
            return response
        response = client.get(target)
    raise AssertionError("too many redirects")


# -- an application's authorization flow, left open ------------------------------------------


@pytest.fixture
def consent_page(app, flows, alice, clock):
    """alice, signed in, on the consent page of an application's authorization."""
    client_id, _secret = make_client(app)
    flows.sign_in("alice", PASSWORD)
    page = follow(flows.client, flows.client.get(authorize_url(client_id, "v" * 50)))
    flows.page = page.get_data(as_text=True)
    assert NAMES_THE_APPLICATION in words(flows)
    return flows


def agree(flows, htmx=False):
    action = unescape(FORM_ACTION.search(flows.page).group(1))
    headers = FlowDriver.HTMX if htmx else {}
    response = flows.client.post(
        action, data={"csrf_token": csrf_token(flows.page)}, headers=headers
    )
    return follow(flows.client, response)


def code_sent_to_the_application(response) -> bool:
    refresh = response.headers.get("Refresh", "")
    return refresh.startswith(f"0; url={REDIRECT_URI}?code=")


def consents(app) -> list[tuple[str, int | None]]:
    with app.app_context():
        return list(db.session.execute(select(Consent.subject, Consent.application_id)).all())


def test_consent_given_just_before_the_plan_expires_reaches_the_application(
    app, consent_page, clock
):
    clock.shift(PLAN_LIFETIME - SECOND)
    assert code_sent_to_the_application(agree(consent_page))


@pytest.mark.parametrize("htmx", [False, True])
def test_consent_posted_after_the_plan_expired_asks_again_naming_the_application(
    app, consent_page, clock, htmx
):
    # Another tab keeps the session alive; the consent page's plan runs out all the same.
    clock.shift(PLAN_LIFETIME / 2)
    assert consent_page.client.get("/me").status_code == 200
    clock.shift(PLAN_LIFETIME / 2)

    page = agree(consent_page, htmx=htmx)

    consent_page.page = page.get_data(as_text=True)
    assert page.status_code == 200
    assert EXPIRED in words(consent_page)
    assert NAMES_THE_APPLICATION in words(consent_page)  # not an "Allow access" to no one
    assert consents(app) == []  # nothing was agreed to blind
    assert code_sent_to_the_application(agree(consent_page))
    assert consents(app) == [("application:1", 1)]


def test_consent_page_reloaded_after_the_plan_expired_still_names_the_application(
    app, consent_page, clock
):
    clock.shift(PLAN_LIFETIME / 2)
    consent_page.client.get("/me")
    clock.shift(PLAN_LIFETIME / 2)
    step_url = unescape(FORM_ACTION.search(consent_page.page).group(1))

    page = follow(consent_page.client, consent_page.client.get(step_url))

    assert page.status_code == 200
    consent_page.page = page.get_data(as_text=True)
    assert NAMES_THE_APPLICATION in words(consent_page)


# -- the mailed sign-in link (past a long run of failures) -----------------------------------

LINK_LIFETIME = timedelta(hours=1)
SPENT = "This link was already used or has expired."


@pytest.fixture
def proof_link(app, alice, clock, mailbox):
    """alice's right password from a new browser past a long run of failures: a link."""
    fail_a_long_run(app, clock, "alice")
    driver = guess(app, "alice", PASSWORD)
    (link,) = proof_links(mailbox, 1)
    return driver, urlsplit(link).path


@pytest.mark.parametrize(("age", "works"), [(LINK_LIFETIME - SECOND, True), (LINK_LIFETIME, False)])
def test_a_sign_in_link_works_for_an_hour(proof_link, clock, age, works):
    driver, path = proof_link
    clock.shift(age)
    response = driver.client.get(path)
    if works:
        assert response.status_code == 303
        driver.open(AUTH)
        driver.submit(AUTH, {"password": PASSWORD})
        assert driver.client.get("/me").status_code == 200
    else:
        assert response.status_code == 410
        assert SPENT in response.get_data(as_text=True)
        assert driver.client.get("/me").status_code != 200


@pytest.mark.parametrize("htmx", [False, True])
def test_a_sign_in_link_confirmed_after_its_hour_is_refused_with_a_way_on(proof_link, clock, htmx):
    driver, path = proof_link
    clock.shift(LINK_LIFETIME - timedelta(minutes=2))
    # Opened from webmail: a page asks for a click first.
    page = driver.client.get(path, headers={"Sec-Fetch-Site": "cross-site"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "You opened a link from an email." in html
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    clock.shift(timedelta(minutes=3))

    response = driver.client.post(
        path, data={"csrf_token": token}, headers=FlowDriver.HTMX if htmx else {}
    )

    assert response.status_code == 410
    body = response.get_data(as_text=True)
    assert SPENT in body and f'href="/flow/{AUTH}/restart"' in body
    assert driver.client.get("/me").status_code != 200


# -- signing keys ----------------------------------------------------------------------------

KEY_PUBLISHED_AFTER_RETIRING = timedelta(hours=24)  # the longest access token lifetime


def published_kids(client) -> set[str]:
    response = client.get("/application/o/rp/jwks/")
    assert response.status_code == 200
    return {key["kid"] for key in response.get_json()["keys"]}


def test_a_retired_key_is_published_for_the_longest_token_lifetime_then_dropped(
    app, client, runner, clock
):
    make_client(app)
    assert runner.invoke(args=["keys", "rotate", "--algorithm", "ES256"]).exit_code == 0
    with app.app_context():
        (retired,) = db.session.scalars(
            select(SigningKey.kid).where(SigningKey.retired_at.is_not(None))
        )
    assert retired in published_kids(client)  # still published right after the rotation

    clock.shift(KEY_PUBLISHED_AFTER_RETIRING - SECOND)
    assert retired in published_kids(client)
    clock.shift(SECOND)
    assert retired not in published_kids(client)
    assert len(published_kids(client)) == 2  # the current key and the next


# -- sessions that ended by time ---------------------------------------------------------------

IDLE = timedelta(minutes=30)  # IDP_SESSION_IDLE_TIMEOUT's default


def signed_in_browser(app) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in("alice", PASSWORD)
    return driver


def test_sign_out_everywhere_else_counts_only_sessions_that_were_still_alive(app, alice, clock):
    forgotten = signed_in_browser(app)  # a browser left alone: its session ends when idle
    clock.shift(IDLE / 2)
    other = signed_in_browser(app)
    here = signed_in_browser(app)
    clock.shift(IDLE / 2)  # the forgotten browser's session ends now; the others live on
    assert forgotten.client.get("/me").status_code != 200
    page = here.client.get("/me").get_data(as_text=True)

    here.client.post("/me/sessions/others/revoke", data={"csrf_token": csrf_token(page)})

    me = here.client.get("/me").get_data(as_text=True)
    assert "Signed out of 1 other session." in me
    assert other.client.get("/me").status_code != 200
    assert here.client.get("/me").status_code == 200
    # The one that ended by time is revoked too, uncounted: the applications it signed in
    # to hear of its end (back-channel logout).
    with app.app_context():
        unrevoked = select(UserSession).where(UserSession.revoked_at.is_(None))
        assert len(db.session.scalars(unrevoked).all()) == 1


def sign_in_from(client, location: str) -> str:
    """Follow the way to sign in from `location`, sign in, and return where it ends."""
    driver = FlowDriver(client)
    flow_url = client.get(location).headers["Location"]
    driver.page = client.get(flow_url).get_data(as_text=True)
    driver.client.post(flow_url, data={"uid_field": "alice", "csrf_token": csrf_token(driver.page)})
    driver.page = client.get(flow_url).get_data(as_text=True)
    answer = client.post(
        flow_url, data={"password": PASSWORD, "csrf_token": csrf_token(driver.page)}
    )
    return answer.headers["Location"]


@pytest.mark.parametrize(
    ("referrer", "back_to"),
    [
        ("http://localhost/me", "/me"),
        ("http://localhost/me/applications?x=1", "/me/applications?x=1"),
        ("https://elsewhere.example/me", None),  # not this site's page: the default one
        (None, None),
    ],
)
@pytest.mark.parametrize(
    "path", ["/me/sessions/others/revoke", "/me/language", "/me/applications/consents/1/revoke"]
)
def test_a_form_posted_after_the_idle_timeout_comes_back_to_its_page_after_sign_in(
    app, alice, clock, path, referrer, back_to
):
    browser = signed_in_browser(app)
    page = browser.client.get("/me").get_data(as_text=True)
    clock.shift(IDLE)
    headers = {"Referer": referrer} if referrer else {}

    answer = browser.client.post(path, data={"csrf_token": csrf_token(page)}, headers=headers)

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location == (f"/login?next={quote(back_to, safe='/?')}" if back_to else "/login")
    # Not a GET of the address the form was posted to (a 405): its page, or the default one.
    destination = sign_in_from(browser.client, location)
    assert destination == (back_to or "/me")
    assert browser.client.get(destination).status_code == 200


# -- what a user allowed, as time passes ----------------------------------------------------

CONSENT_LIFETIME = timedelta(minutes=20)


def allowed_row(client) -> str:
    """The row of "What you allowed" on /me/applications, as words."""
    page = client.get("/me/applications").get_data(as_text=True)
    row = re.search(r'<table class="consents">.*?<tbody>(.*?)</tbody>', page, re.S).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", row).split())


@pytest.mark.parametrize(
    ("age", "is_expired"), [(CONSENT_LIFETIME - SECOND, False), (CONSENT_LIFETIME, True)]
)
def test_a_consent_that_ran_out_is_shown_as_expired(app, alice, clock, age, is_expired):
    make_client(app)
    with app.app_context():
        db.session.add(
            Consent(
                user_id=alice, subject="application:1", application_id=1, scopes=["openid"],
                expires_at=datetime.now(UTC) + CONSENT_LIFETIME,
            )
        )  # fmt: skip
        db.session.commit()
    browser = signed_in_browser(app)
    clock.shift(age)
    row = allowed_row(browser.client)
    assert row.startswith("RP openid")
    assert ("(expired)" in row) is is_expired
    assert "Withdraw" in row  # its application's tokens may still be live


# -- what a plan did once, kept for replays ----------------------------------------------------

CLAIMS_KEPT = timedelta(days=30)  # beyond a plan's day and a mailed link's week


def claims(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(PlanEffect.effect)))


@pytest.mark.parametrize(("age", "is_kept"), [(CLAIMS_KEPT, True), (CLAIMS_KEPT + SECOND, False)])
def test_maintenance_purge_forgets_what_a_plan_did_only_after_thirty_days(
    app, runner, mailbox, clock, age, is_kept
):
    browser = FlowDriver(app.test_client())
    browser.open("default-enrollment-flow")
    browser.submit(
        "default-enrollment-flow",
        {
            "username": "newbie", "name": "New Bie", "email": "newbie@example.test",
            "password": PASSWORD, "password_repeat": PASSWORD,
        },
    )  # fmt: skip
    made = claims(app)
    assert made  # the account written and the mail sent, each once for this plan
    clock.shift(age)
    assert runner.invoke(args=["maintenance", "purge", "--older-than", "365d"]).exit_code == 0
    assert claims(app) == (made if is_kept else [])


# -- the sign-in throttle, on the page that said to wait ---------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_the_page_that_said_to_wait_signs_in_once_the_wait_is_over(app, alice, clock, htmx):
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        guess(app, "alice", "wrong")
    delay = timedelta(seconds=app.config["LOGIN_DELAY_BASE"])
    browser = FlowDriver(app.test_client())
    browser.sign_in("alice", PASSWORD, htmx=htmx)
    assert f"Try again in {delay.seconds} s." in browser.text

    clock.shift(delay - SECOND)
    browser.submit(AUTH, {"password": PASSWORD}, htmx=htmx)  # the same page, sent again
    assert "Try again in 1 s." in browser.text
    assert browser.client.get("/me").status_code != 200

    clock.shift(SECOND)
    answer = browser.submit(AUTH, {"password": PASSWORD}, htmx=htmx)
    assert answer.headers["HX-Redirect" if htmx else "Location"] == "/me"
    assert browser.client.get("/me").status_code == 200


def test_a_form_posted_after_the_idle_timeout_with_a_referer_that_is_no_url_signs_in_anew(
    app, alice, clock
):
    # urlsplit raises on an unclosed IPv6 host: the default page, not a 500.
    browser = signed_in_browser(app)
    page = browser.client.get("/me").get_data(as_text=True)
    clock.shift(IDLE)

    answer = browser.client.post(
        "/me/language", data={"csrf_token": csrf_token(page)}, headers={"Referer": "http://[::1/me"}
    )

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/login"
