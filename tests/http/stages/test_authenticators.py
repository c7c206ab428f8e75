"""Authenticator apps (TOTP) and recovery codes: setup, sign-in, replay, throttling, secrecy."""

import json
import re
from datetime import UTC, datetime
from html import unescape
from types import SimpleNamespace

import pyotp
import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.core.options import OptionsError
from idp.credentials import authenticators
from idp.models import Event, StaticCode, TotpDevice, User, WebAuthnDevice
from idp.protection import attempts
from idp.stages.authenticator_totp.options import AuthenticatorTotpOptions
from idp.stages.authenticator_validate.options import AuthenticatorValidateOptions
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, account_of, make_flow, make_user
from tests.http.test_executor import session_of, write_session

AUTH = "default-authentication-flow"
TOTP_SETUP = "default-authenticator-totp-setup"
STATIC_SETUP = "default-authenticator-static-setup"
WRONG = "That code is not right."


class Clock:
    """The service's clock, moved by whole TOTP steps without sleeping."""

    def __init__(self, monkeypatch):
        # Mid-step, so that a request never straddles a step boundary.
        self.now = 1_800_000_015.0
        monkeypatch.setattr(authenticators, "time", SimpleNamespace(time=lambda: self.now))

    def advance(self, steps=1):
        self.now += 30 * steps

    def code(self, totp, offset=0):
        return totp.at(self.now + 30 * offset)


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice").id


def otpauth_uri(html: str) -> str:
    match = re.search(r'href="(otpauth://[^"]+)"', html)
    assert match, "no otpauth:// link on the page"
    return unescape(match.group(1))


def recovery_codes_on(html: str) -> list[str]:
    listing = re.search(r'<ol class="recovery-codes">(.*?)</ol>', html, re.S)
    assert listing, "no recovery codes on the page"
    return re.findall(r"<code>([^<]+)</code>", listing.group(1))


def signed_in(flows) -> bool:
    return flows.client.get("/me").status_code == 200


def set_up_totp(flows, clock, htmx=False) -> pyotp.TOTP:
    flows.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    response = flows.submit(TOTP_SETUP, {"code": clock.code(totp)}, htmx=htmx)
    assert response.headers.get("HX-Redirect" if htmx else "Location") == "/me"
    return totp


def signed_in_driver(app, username="alice") -> FlowDriver:
    flows = FlowDriver(app.test_client())
    flows.sign_in(username, PASSWORD)
    assert signed_in(flows)
    return flows


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def cookie_text(app, flows) -> str:
    return json.dumps(session_of(app, flows.client))


# -- TOTP setup ------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [False, True])
def test_totp_setup_shows_a_qr_code_and_saves_the_device_after_a_right_code(
    app, alice, clock, htmx
):
    flows = signed_in_driver(app)
    flows.open(TOTP_SETUP)
    assert flows.stage == "authenticator_totp"
    assert '<svg role="img" class="qr-code"' in flows.page
    assert 'autocomplete="one-time-code"' in flows.page
    assert 'inputmode="numeric"' in flows.page
    assert 'name="username" value="alice" autocomplete="username"' in flows.page
    uri = otpauth_uri(flows.page)
    assert uri.startswith("otpauth://totp/Gatehouse:alice%40example.test?")
    assert "issuer=Gatehouse" in uri
    totp = pyotp.parse_uri(uri)
    assert " ".join(re.findall(".{1,4}", totp.secret)) in flows.text
    flows.submit(TOTP_SETUP, {"code": clock.code(totp)}, htmx=htmx)
    with app.app_context():
        device = db.session.scalar(select(TotpDevice))
        assert device.user_id == alice
        assert totp.secret not in device.sealed_secret
        assert device.last_used_step == totp.timecode(clock.now)
        assert db.session.scalar(select(Event).where(Event.action == "authenticator_added"))


def test_wrong_code_during_setup_is_refused_and_nothing_is_saved(app, alice, clock):
    flows = signed_in_driver(app)
    flows.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    wrong = f"{(int(clock.code(totp)) + 1) % 1_000_000:06d}"
    response = flows.submit(TOTP_SETUP, {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right." in flows.text
    assert count(app, TotpDevice) == 0
    # The same secret is kept: the app the user scanned still works for the next try.
    assert pyotp.parse_uri(otpauth_uri(flows.page)).secret == totp.secret
    flows.submit(TOTP_SETUP, {"code": clock.code(totp)})
    assert count(app, TotpDevice) == 1


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1" * 70])
def test_malformed_setup_codes_are_refused_without_an_error(app, alice, clock, code):
    flows = signed_in_driver(app)
    flows.open(TOTP_SETUP)
    response = flows.submit(TOTP_SETUP, {"code": code})
    assert response.status_code == 400
    assert count(app, TotpDevice) == 0


def test_the_cookie_never_holds_the_totp_secret(app, alice, clock):
    flows = signed_in_driver(app)
    flows.open(TOTP_SETUP)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    cookie = cookie_text(app, flows)
    assert "totp_setup" in cookie
    assert totp.secret not in cookie
    flows.submit(TOTP_SETUP, {"code": "000000"})
    assert totp.secret not in cookie_text(app, flows)


def test_setup_reached_from_another_site_makes_the_secret_only_on_a_click(app, alice, clock):
    flows = signed_in_driver(app)
    flows.open(TOTP_SETUP, headers={"Sec-Fetch-Site": "cross-site"})
    assert "otpauth://" not in flows.page
    assert "Show the QR code" in flows.page
    flows.submit(TOTP_SETUP, {})
    assert "Scan this QR code" in flows.text
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    flows.submit(TOTP_SETUP, {"code": clock.code(totp)})
    assert count(app, TotpDevice) == 1


def test_setup_flows_need_a_signed_in_user(app, flows):
    for slug in (TOTP_SETUP, STATIC_SETUP):
        response = flows.open(slug)
        assert response.status_code == 403
        assert "Please sign in first." in flows.text


def test_the_authenticator_app_shows_the_brands_name_by_default(app, alice, runner):
    # A colon would split the otpauth label "issuer:account" in the wrong place.
    assert runner.invoke(args=["brand", "set", "product_name", "Acme: Home"]).exit_code == 0
    flows = signed_in_driver(app)
    flows.open(TOTP_SETUP)
    uri = otpauth_uri(flows.page)
    assert uri.startswith("otpauth://totp/Acme%20Home:alice%40example.test?")
    assert pyotp.parse_uri(uri).issuer == "Acme Home"


def test_setup_options_take_eight_digits_and_another_issuer(app, alice, clock):
    with app.app_context():
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "eight-digit-setup",
                        "type": "authenticator_totp",
                        "options": {"issuer": "Example Corp", "digits": 8, "period": 60},
                    }
                }
            ],
            designation="stage_configuration",
            authentication="require_authenticated",
        )
    flows = signed_in_driver(app)
    flows.open(slug)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    assert (totp.digits, totp.interval, totp.issuer) == (8, 60, "Example Corp")
    flows.submit(slug, {"code": totp.at(clock.now)})
    assert count(app, TotpDevice) == 1
    # The device keeps its own digits and period for signing in.
    clock.advance(2)
    flows.sign_out()
    flows.sign_in("alice", PASSWORD)
    flows.submit(AUTH, {"code": totp.at(clock.now)})
    assert signed_in(flows)


@pytest.mark.parametrize(
    ("options_class", "options", "place"),
    [
        (AuthenticatorTotpOptions, {"digits": 7}, "digits"),
        (AuthenticatorTotpOptions, {"period": 5}, "period"),
        (AuthenticatorTotpOptions, {"issuer": "A:B"}, "issuer"),
        (AuthenticatorValidateOptions, {"not_configured_action": "ask"}, "not_configured_action"),
        (AuthenticatorValidateOptions, {"issuer": " "}, "issuer"),
    ],
)
def test_bad_options_name_their_field(options_class, options, place):
    from idp.core.options import parse_options

    with pytest.raises(OptionsError) as raised:
        parse_options(options_class, options)
    assert raised.value.place == place


# -- signing in with a code ------------------------------------------------------------------


@pytest.fixture
def alice_totp(app, alice, clock):
    flows = signed_in_driver(app)
    totp = set_up_totp(flows, clock)
    clock.advance(10)
    return totp


def test_the_shipped_sign_in_asks_for_a_code_once_an_app_is_set_up(app, alice_totp, clock, flows):
    flows.sign_in("alice", PASSWORD)
    assert flows.stage == "authenticator_validate"
    assert not signed_in(flows)
    assert 'name="username" value="alice" autocomplete="username"' in flows.page
    assert 'autocomplete="one-time-code"' in flows.page
    assert 'inputmode="numeric"' in flows.page
    flows.submit(AUTH, {"code": clock.code(alice_totp)})
    assert signed_in(flows)
    with app.app_context():
        logins = db.session.scalars(select(Event.detail).where(Event.action == "login")).all()
        assert logins[-1]["method"] == "totp"


def test_the_shipped_sign_in_lets_a_user_without_an_authenticator_straight_in(app, alice, flows):
    flows.sign_in("alice", PASSWORD)
    assert signed_in(flows)


@pytest.mark.parametrize("htmx", [False, True])
def test_a_wrong_code_is_refused(app, alice_totp, clock, flows, htmx):
    flows.sign_in("alice", PASSWORD)
    response = flows.submit(AUTH, {"code": "000000"}, htmx=htmx)
    assert response.status_code == (200 if htmx else 400)
    assert WRONG in flows.text
    assert not signed_in(flows)


@pytest.mark.parametrize(("offset", "accepted"), [(-2, False), (-1, True), (1, True), (2, False)])
def test_codes_one_step_early_or_late_are_accepted_and_two_are_not(
    app, alice_totp, clock, flows, offset, accepted
):
    flows.sign_in("alice", PASSWORD)
    flows.submit(AUTH, {"code": clock.code(alice_totp, offset)})
    assert signed_in(flows) is accepted


def test_a_code_that_signed_in_once_is_refused_the_second_time(app, alice_totp, clock):
    first, second = FlowDriver(app.test_client()), FlowDriver(app.test_client())
    for driver in (first, second):
        driver.sign_in("alice", PASSWORD)
    code = clock.code(alice_totp)
    first.submit(AUTH, {"code": code})
    second.submit(AUTH, {"code": code})
    assert signed_in(first)
    assert not signed_in(second)
    assert WRONG in second.text
    # An older step's code is no good either once a later one was used.
    second.submit(AUTH, {"code": clock.code(alice_totp, -1)})
    assert not signed_in(second)


def test_a_replayed_cookie_cannot_use_the_same_code_again(app, alice_totp, clock, flows):
    flows.sign_in("alice", PASSWORD)
    before_code = session_of(app, flows.client)
    token_page = flows.page
    code = clock.code(alice_totp)
    flows.submit(AUTH, {"code": code})
    assert signed_in(flows)
    flows.sign_out()
    write_session(app, flows.client, before_code)
    flows.page = token_page
    flows.submit(AUTH, {"code": code})
    assert WRONG in flows.text
    assert not signed_in(flows)


def test_the_setup_code_cannot_be_used_to_sign_in(app, alice, clock):
    flows = signed_in_driver(app)
    totp = set_up_totp(flows, clock)
    other = FlowDriver(app.test_client())
    other.sign_in("alice", PASSWORD)
    other.submit(AUTH, {"code": clock.code(totp)})
    assert not signed_in(other)


def test_any_of_the_users_apps_is_accepted(app, alice, clock):
    flows = signed_in_driver(app)
    phone = set_up_totp(flows, clock)
    clock.advance()
    tablet = set_up_totp(flows, clock)
    assert phone.secret != tablet.secret
    clock.advance(5)
    for totp in (phone, tablet):
        driver = FlowDriver(app.test_client())
        driver.sign_in("alice", PASSWORD)
        driver.submit(AUTH, {"code": clock.code(totp)})
        assert signed_in(driver)
        clock.advance()


def test_another_users_code_is_no_good(app, alice_totp, clock):
    with app.app_context():
        make_user("bob")
    bob = signed_in_driver(app, "bob")
    bob_totp = set_up_totp(bob, clock)
    clock.advance(3)
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", PASSWORD)
    flows.submit(AUTH, {"code": clock.code(bob_totp)})
    assert not signed_in(flows)


# -- throttling ------------------------------------------------------------------------------


def test_wrong_codes_are_slowed_down_even_before_a_right_one(app, alice_totp, clock, flows):
    flows.sign_in("alice", PASSWORD)
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        flows.submit(AUTH, {"code": "000000"})
        assert WRONG in flows.text
    flows.submit(AUTH, {"code": clock.code(alice_totp)})
    assert "Too many wrong codes. Try again in 2 s." in flows.text
    assert not signed_in(flows)
    with app.app_context():
        assert db.session.scalar(select(Event).where(Event.action == "code_throttled"))


def test_code_failures_are_counted_apart_from_password_failures(app, alice_totp, clock, flows):
    free = app.config["LOGIN_FREE_ATTEMPTS"]
    for _ in range(free - 1):
        FlowDriver(app.test_client()).sign_in("alice", "wrong password")
    flows.sign_in("alice", PASSWORD)
    for _ in range(free - 1):
        flows.submit(AUTH, {"code": "000000"})
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == "alice"))
        assert attempts.failures_of("account", account_of("alice")) == 0
        assert attempts.failures_of(attempts.CODE, attempts.code_key(user_id)) == free - 1
    # Neither count has reached its limit, so the right code still signs in, and clears it.
    flows.submit(AUTH, {"code": clock.code(alice_totp)})
    assert signed_in(flows)
    with app.app_context():
        assert attempts.failures_of(attempts.CODE, attempts.code_key(user_id)) == 0


def test_a_replayed_cookie_does_not_reset_code_failures(app, alice_totp, clock, flows):
    flows.sign_in("alice", PASSWORD)
    fresh, page = session_of(app, flows.client), flows.page
    for _ in range(app.config["LOGIN_FREE_ATTEMPTS"]):
        write_session(app, flows.client, fresh)
        flows.page = page
        flows.submit(AUTH, {"code": "000000"})
    write_session(app, flows.client, fresh)
    flows.page = page
    flows.submit(AUTH, {"code": clock.code(alice_totp)})
    assert "Too many wrong codes" in flows.text


# -- recovery codes --------------------------------------------------------------------------


def make_recovery_codes(flows) -> list[str]:
    flows.open(STATIC_SETUP)
    codes = recovery_codes_on(flows.page)
    response = flows.submit(STATIC_SETUP, {})
    assert response.headers["Location"] == "/me"
    return codes


def test_recovery_codes_are_shown_once_and_stored_only_as_hashes(app, alice):
    flows = signed_in_driver(app)
    flows.open(STATIC_SETUP)
    codes = recovery_codes_on(flows.page)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{5}-[2-9A-HJKMNP-TV-Z]{5}", code) for code in codes)
    assert "I have saved them" in flows.page
    cookie = cookie_text(app, flows)
    assert "new_recovery_codes" in cookie
    assert not any(code in cookie or code.replace("-", "") in cookie for code in codes)
    flows.open(STATIC_SETUP)  # a reload shows the same codes, not new ones
    assert recovery_codes_on(flows.page) == codes
    flows.submit(STATIC_SETUP, {})
    assert STATIC_SETUP not in session_of(app, flows.client).get("plans", {})
    flows.open(STATIC_SETUP)
    assert not set(recovery_codes_on(flows.page)) & set(codes)
    with app.app_context():
        hashes = db.session.scalars(select(StaticCode.code_hash)).all()
        assert all(hash_.startswith("hmac-sha256$") for hash_ in hashes)
        assert not any(code.replace("-", "") in hash_ for hash_ in hashes for code in codes)


def test_a_recovery_code_signs_in_once(app, alice):
    codes = make_recovery_codes(signed_in_driver(app))
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", PASSWORD)
    assert flows.stage == "authenticator_validate"
    assert "Recovery code" in flows.page
    assert 'inputmode="numeric"' not in flows.page
    flows.submit(AUTH, {"code": codes[0].lower().replace("-", " ")})
    assert signed_in(flows)
    again = FlowDriver(app.test_client())
    again.sign_in("alice", PASSWORD)
    again.submit(AUTH, {"code": codes[0]})
    assert WRONG in again.text
    again.submit(AUTH, {"code": codes[1]})
    assert signed_in(again)
    with app.app_context():
        methods = db.session.scalars(select(Event.detail).where(Event.action == "login")).all()
        assert methods[-1]["method"] == "recovery_code"
        assert db.session.scalar(select(Event).where(Event.action == "recovery_code_used"))


def test_new_recovery_codes_replace_the_unused_old_ones(app, alice):
    setup = signed_in_driver(app)
    old = make_recovery_codes(setup)
    new = make_recovery_codes(setup)
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", PASSWORD)
    flows.submit(AUTH, {"code": old[0]})
    assert not signed_in(flows)
    flows.submit(AUTH, {"code": new[0]})
    assert signed_in(flows)


def test_a_totp_code_or_a_recovery_code_is_accepted_when_the_user_has_both(app, alice, clock):
    setup = signed_in_driver(app)
    totp = set_up_totp(setup, clock)
    codes = make_recovery_codes(setup)
    clock.advance(3)
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", PASSWORD)
    assert "Code from your authenticator app, or a recovery code" in flows.page
    flows.submit(AUTH, {"code": codes[3]})
    assert signed_in(flows)
    other = FlowDriver(app.test_client())
    other.sign_in("alice", PASSWORD)
    other.submit(AUTH, {"code": clock.code(totp)})
    assert signed_in(other)


# -- not configured, not proved ---------------------------------------------------------------


def sign_in_flow(app, action):
    with app.app_context():
        return make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"stage": "default-authentication-password"},
                {
                    "define": {
                        "name": f"validate-{action}",
                        "type": "authenticator_validate",
                        "options": {"not_configured_action": action},
                    }
                },
                {"stage": "default-authentication-login"},
            ]
        )


def test_not_configured_skip_lets_a_user_without_authenticators_in(app, alice, flows):
    slug = sign_in_flow(app, "skip")
    flows.sign_in("alice", PASSWORD, slug=slug)
    assert signed_in(flows)


def test_not_configured_deny_stops_a_user_without_authenticators(app, alice, flows):
    slug = sign_in_flow(app, "deny")
    flows.open(slug)
    flows.submit(slug, {"uid_field": "alice"})
    token = csrf_token(flows.page)
    flows.submit(slug, {"password": PASSWORD})
    assert "your account has none" in flows.text
    assert 'name="code"' not in flows.page
    assert not signed_in(flows)
    # A crafted answer is refused too: the flow stops.
    response = flows.submit(slug, {"code": "000000", "csrf_token": token}, csrf=False)
    assert response.status_code == 403
    assert "your account has none" in flows.text
    assert not signed_in(flows)


def test_not_configured_deny_still_asks_a_user_with_an_app(app, alice_totp, clock, flows):
    slug = sign_in_flow(app, "deny")
    flows.sign_in("alice", PASSWORD, slug=slug)
    flows.submit(slug, {"code": clock.code(alice_totp)})
    assert signed_in(flows)


def test_not_configured_configure_sets_up_an_app_before_signing_in(app, alice, clock, flows):
    slug = sign_in_flow(app, "configure")
    flows.sign_in("alice", PASSWORD, slug=slug)
    assert "needs an authenticator app" in flows.text
    assert not signed_in(flows)
    totp = pyotp.parse_uri(otpauth_uri(flows.page))
    assert totp.secret not in cookie_text(app, flows)
    flows.submit(slug, {"code": "000000"})
    assert count(app, TotpDevice) == 0
    assert not signed_in(flows)
    flows.submit(slug, {"code": clock.code(totp)})
    assert signed_in(flows)
    assert count(app, TotpDevice) == 1
    # From now on the app's code is asked for.
    clock.advance()
    other = FlowDriver(app.test_client())
    other.sign_in("alice", PASSWORD, slug=slug)
    assert 'name="code"' in other.page
    assert "otpauth://" not in other.page
    other.submit(slug, {"code": clock.code(totp)})
    assert signed_in(other)


def test_a_user_only_named_and_not_proved_is_denied(app, alice_totp, clock, flows):
    with app.app_context():
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"define": {"name": "validate-unproved", "type": "authenticator_validate"}},
                {"stage": "default-authentication-login"},
            ]
        )
    flows.open(slug)
    token = csrf_token(flows.page)
    flows.submit(slug, {"uid_field": "alice"})
    assert "Please sign in with your password first." in flows.text
    response = flows.submit(slug, {"code": clock.code(alice_totp), "csrf_token": token}, csrf=False)
    assert response.status_code == 403
    assert not signed_in(flows)


# -- the service for the account page ----------------------------------------------------------


def test_authenticators_are_listed_and_removed_only_by_their_owner(app, alice, clock):
    setup = signed_in_driver(app)
    set_up_totp(setup, clock)
    codes = make_recovery_codes(setup)
    with app.app_context():
        make_user("mallory")
        alice_user = db.session.scalar(select(User).where(User.username == "alice"))
        mallory = db.session.scalar(select(User).where(User.username == "mallory"))
        listed = authenticators.list_authenticators(alice_user)
        assert [(entry.kind, entry.detail) for entry in listed] == [
            ("totp", ""),
            ("recovery_codes", f"{len(codes)} left"),
        ]
        device = listed[0]
        assert authenticators.list_authenticators(mallory) == []
        assert not authenticators.remove_authenticator(mallory, "totp", device.id)
        assert not authenticators.remove_authenticator(alice_user, "nonsense", device.id)
        assert authenticators.remove_authenticator(alice_user, "totp", device.id)
        assert authenticators.remove_authenticator(alice_user, "recovery_codes", 0)
        db.session.commit()
        assert authenticators.list_authenticators(alice_user) == []
    # With nothing left, the shipped sign-in lets her straight in again.
    flows = FlowDriver(app.test_client())
    flows.sign_in("alice", PASSWORD)
    assert signed_in(flows)


USED_AT = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def test_the_account_page_lists_every_kind_in_order_in_one_statement(
    app, alice, clock, query_counter
):
    setup = signed_in_driver(app)
    set_up_totp(setup, clock)
    codes = make_recovery_codes(setup)
    with app.app_context():
        alice_user = db.session.scalar(select(User).where(User.username == "alice"))
        for name, synced in (("Phone", True), ("Key", False)):
            db.session.add(
                WebAuthnDevice(
                    user_id=alice_user.id, name=name, credential_id=f"id-{name}",
                    public_key=b"-", user_handle="h", backup_state=synced,
                )
            )  # fmt: skip
        used = db.session.scalars(select(StaticCode).where(StaticCode.user_id == alice_user.id))
        next(iter(used)).used_at = USED_AT
        db.session.commit()
        db.session.refresh(alice_user)  # not counted: the commit expired it
        listed = []
        assert (
            query_counter.count(
                lambda: listed.extend(authenticators.list_authenticators(alice_user))
            )
            == 1
        )
    assert [(entry.kind, entry.name, entry.detail) for entry in listed] == [
        ("totp", "Authenticator app", ""),
        ("webauthn", "Phone", "passkey, synced"),
        ("webauthn", "Key", "passkey"),
        ("recovery_codes", "Recovery codes", f"{len(codes) - 1} left"),
    ]
    assert listed[-1].last_used_at == USED_AT


def test_non_ascii_digits_in_a_code_are_refused_not_a_500(app, flows):
    from tests.factories import PASSWORD, make_user

    with app.app_context():
        make_user("digits")
    flows.sign_in("digits", PASSWORD)
    flows.open("default-authenticator-totp-setup")
    response = flows.submit("default-authenticator-totp-setup", {"code": "١٢٣٤٥٦"})
    assert response.status_code == 400
