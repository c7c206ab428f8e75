"""Passkeys (WebAuthn) over HTTP: set up, second factor, passwordless sign-in, and the ways an
answer is refused. A software authenticator signs real answers; py_webauthn checks them."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Event, WebAuthnChallenge, WebAuthnDevice
from tests.conftest import csrf_token
from tests.factories import PASSWORD, make_user
from tests.soft_authenticator import SoftAuthenticator, options_on

ORIGIN = "http://localhost"
SETUP = "default-authenticator-webauthn-setup"
AUTH = "default-authentication-flow"


@pytest.fixture
def app_settings():
    return {"WEBAUTHN_RP_ID": "localhost", "WEBAUTHN_ORIGIN": ORIGIN}


@pytest.fixture
def alice(app):
    with app.app_context():
        return make_user("alice", email="alice@example.test").id


def devices(app, user_id):
    with app.app_context():
        return list(
            db.session.scalars(select(WebAuthnDevice).where(WebAuthnDevice.user_id == user_id))
        )


def events(app, action):
    with app.app_context():
        return list(db.session.scalars(select(Event).where(Event.action == action)))


def register(flows, authenticator, name="Laptop", **answer):
    flows.open(SETUP)
    options = options_on(flows.page)
    return flows.submit(
        SETUP, {"name": name, "webauthn_response": authenticator.create(options, **answer)}
    )


def test_a_signed_in_user_sets_up_a_passkey_and_it_is_listed_on_the_account_page(app, flows, alice):
    flows.sign_in("alice", PASSWORD)
    authenticator = SoftAuthenticator()
    response = register(flows, authenticator)
    assert response.status_code == 303
    [device] = devices(app, alice)
    assert device.name == "Laptop"
    assert device.backup_eligible and device.backup_state
    assert device.transports == "internal"
    assert device.sign_count == 0
    page = flows.client.get("/me").get_data(as_text=True)
    assert "Laptop" in page and "passkey" in page
    assert events(app, "authenticator_added")


def test_the_setup_options_exclude_the_passkeys_the_user_has(app, flows, alice):
    flows.sign_in("alice", PASSWORD)
    authenticator = SoftAuthenticator()
    register(flows, authenticator)
    flows.open(SETUP)
    options = options_on(flows.page)
    assert [item["id"] for item in options["excludeCredentials"]] == [
        devices(app, alice)[0].credential_id
    ]
    assert options["rp"]["id"] == "localhost"


def test_a_replayed_registration_answer_with_the_old_cookie_is_refused(app, flows, alice):
    flows.sign_in("alice", PASSWORD)
    authenticator = SoftAuthenticator()
    flows.open(SETUP)
    answer = authenticator.create(options_on(flows.page))
    page, cookie = flows.page, flows.client.get_cookie("gatehouse_session").value
    assert flows.submit(SETUP, {"name": "One", "webauthn_response": answer}).status_code == 303
    flows.client.set_cookie("gatehouse_session", cookie)
    flows.page = page
    response = flows.submit(SETUP, {"name": "Two", "webauthn_response": answer})
    assert response.status_code == 400
    assert "expired or was already used" in flows.text
    assert [device.name for device in devices(app, alice)] == ["One"]


@pytest.mark.parametrize(
    "answer",
    [
        {"origin": "http://localhost.evil.test"},
        {"origin": "https://localhost"},
        {"rp_id": "evil.test"},
    ],
    ids=["other-origin", "other-scheme", "other-rp-id"],
)
def test_a_registration_for_another_origin_or_relying_party_is_refused(app, flows, alice, answer):
    flows.sign_in("alice", PASSWORD)
    response = register(flows, SoftAuthenticator(), **answer)
    assert response.status_code == 400
    assert "could not be used" in flows.text
    assert devices(app, alice) == []
    # A new challenge waits: the user can simply try again.
    assert options_on(flows.page)["challenge"]


def test_passkeys_are_switched_off_without_a_domain(app, flows, alice):
    app.config.update(WEBAUTHN_RP_ID="", WEBAUTHN_ORIGIN="")
    flows.sign_in("alice", PASSWORD)
    flows.open(SETUP)
    assert "IDP_BASE_URL" in flows.text
    assert "data-webauthn-options" not in flows.page
    with app.app_context():
        assert db.session.scalar(select(WebAuthnChallenge.id)) is None


def test_garbage_instead_of_an_answer_gets_a_clear_400(app, flows, alice):
    flows.sign_in("alice", PASSWORD)
    flows.open(SETUP)
    for garbage in ("{", "[]", '{"id": 1}', "x" * 70000):
        response = flows.submit(SETUP, {"name": "x", "webauthn_response": garbage})
        assert response.status_code == 400
    assert devices(app, alice) == []


def with_passkey(app, flows, authenticator, username="alice"):
    """Sign in, set up a passkey, sign out: the user now has a passkey as second factor."""
    flows.sign_in(username, PASSWORD)
    register(flows, authenticator)
    flows.sign_out()


def to_second_factor(flows, username="alice"):
    flows.open(AUTH)
    flows.submit(AUTH, {"uid_field": username, "password": PASSWORD})
    assert flows.stage == "authenticator_validate", flows.text
    return options_on(flows.page)


def test_a_passkey_is_a_second_factor_after_the_password(app, flows, alice):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    options = to_second_factor(flows)
    assert [item["id"] for item in options["allowCredentials"]] == [
        devices(app, alice)[0].credential_id
    ]
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options)})
    assert response.status_code == 303
    assert flows.client.get("/me").status_code == 200
    [device] = devices(app, alice)
    assert device.sign_count == 1 and device.last_used_at is not None


def test_a_replayed_assertion_is_refused(app, flows, alice):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    options = to_second_factor(flows)
    answer = authenticator.get(options)
    page, cookie = flows.page, flows.client.get_cookie("gatehouse_session").value
    flows.submit(AUTH, {"webauthn_response": answer})
    flows.sign_out()
    flows.client.set_cookie("gatehouse_session", cookie)
    flows.page = page
    response = flows.submit(AUTH, {"webauthn_response": answer})
    assert response.status_code in (400, 403)
    assert flows.client.get("/me").status_code != 200


def test_an_assertion_made_for_an_old_challenge_is_refused(app, flows, alice):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    old = to_second_factor(flows)
    flows.client.get(f"/flow/{AUTH}/restart")  # "Not you?": a new plan, a new challenge
    assert to_second_factor(flows)["challenge"] != old["challenge"]
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(old)})
    assert response.status_code == 400
    assert "could not be used" in flows.text


def test_a_counter_that_goes_back_is_refused_and_recorded(app, flows, alice):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    options = to_second_factor(flows)
    flows.submit(AUTH, {"webauthn_response": authenticator.get(options, sign_count=7)})
    flows.sign_out()
    options = to_second_factor(flows)
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options, sign_count=3)})
    assert response.status_code == 400
    assert "fewer uses than before" in flows.text
    assert flows.client.get("/me").status_code != 200
    assert len(events(app, "passkey_counter_went_back")) == 1
    assert devices(app, alice)[0].sign_count == 7


@pytest.mark.parametrize(
    "answer",
    [{"origin": "http://evil.test"}, {"rp_id": "evil.test"}],
    ids=["other-origin", "other-rp-id"],
)
def test_an_assertion_for_another_origin_or_relying_party_is_refused(app, flows, alice, answer):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    options = to_second_factor(flows)
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options, **answer)})
    assert response.status_code == 400
    assert flows.client.get("/me").status_code != 200


def test_another_users_passkey_is_not_a_second_factor(app, flows, alice):
    with app.app_context():
        make_user("bob")
    mallory = SoftAuthenticator()
    with_passkey(app, flows, mallory, username="bob")
    with_passkey(app, flows, SoftAuthenticator())
    options = to_second_factor(flows)
    response = flows.submit(AUTH, {"webauthn_response": mallory.get(options)})
    assert response.status_code == 400
    assert "not registered" in flows.text


def test_user_verification_is_required_where_the_stage_says(app, flows, alice):
    from idp.models import Stage

    with app.app_context():
        stage = db.session.scalar(
            select(Stage).where(Stage.name == "default-authentication-mfa-validation")
        )
        stage.options = {**stage.options, "webauthn_user_verification": "required"}
        db.session.commit()
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    authenticator.user_verified = False
    options = to_second_factor(flows)
    assert options["userVerification"] == "required"
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options)})
    assert response.status_code == 400
    authenticator.user_verified = True
    options = options_on(flows.page)
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options)})
    assert response.status_code == 303


def set_options(app, stage_name, **options):
    from idp.models import Stage

    with app.app_context():
        stage = db.session.scalar(select(Stage).where(Stage.name == stage_name))
        stage.options = {**stage.options, **options}
        db.session.commit()


@pytest.fixture
def passkey_login(app):
    set_options(app, "default-authentication-identification", passkey_login=True)


def test_a_passkey_signs_in_without_a_name_or_password(app, flows, alice, passkey_login):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    flows.open(AUTH)
    options = options_on(flows.page)
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    assert 'autocomplete="username webauthn"' in flows.page
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options)})
    assert response.status_code == 303
    assert flows.client.get("/me").status_code == 200
    assert devices(app, alice)[0].sign_count == 1


def test_a_passkey_without_user_verification_does_not_sign_in_alone(
    app, flows, alice, passkey_login
):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    authenticator.user_verified = False
    flows.open(AUTH)
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options_on(flows.page))})
    assert response.status_code == 400
    assert flows.client.get("/me").status_code != 200


def test_an_unknown_passkey_gets_the_same_answer_whoever_it_names(app, flows, alice, passkey_login):
    stranger = SoftAuthenticator(user_handle=b"someone")
    flows.open(AUTH)
    response = flows.submit(AUTH, {"webauthn_response": stranger.get(options_on(flows.page))})
    assert response.status_code == 400
    assert "not registered here" in flows.text
    # The name and password still work on the same page.
    response = flows.submit(AUTH, {"uid_field": "alice", "password": PASSWORD})
    assert response.status_code == 303


def test_a_replayed_passwordless_answer_is_refused(app, flows, alice, passkey_login):
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    flows.open(AUTH)
    answer = authenticator.get(options_on(flows.page))
    page, cookie = flows.page, flows.client.get_cookie("gatehouse_session").value
    flows.submit(AUTH, {"webauthn_response": answer})
    flows.sign_out()
    flows.client.set_cookie("gatehouse_session", cookie)
    flows.page = page
    response = flows.submit(AUTH, {"webauthn_response": answer})
    assert response.status_code == 400
    assert flows.client.get("/me").status_code != 200


def test_removing_a_passkey_on_the_account_page_needs_the_password(app, flows, alice):
    flows.sign_in("alice", PASSWORD)
    register(flows, SoftAuthenticator())
    [device] = devices(app, alice)
    page = flows.client.get("/me").get_data(as_text=True)
    path = f"/me/authenticators/webauthn/{device.id}/remove"
    assert path in page
    token = csrf_token(page)
    flows.client.post(path, data={"csrf_token": token, "password": "not the password"})
    assert len(devices(app, alice)) == 1
    response = flows.client.post(path, data={"csrf_token": token, "password": PASSWORD})
    assert response.status_code == 303
    assert devices(app, alice) == []
    assert (
        flows.client.post(path, data={"csrf_token": token, "password": PASSWORD}).status_code == 404
    )


def test_an_administrator_sees_and_removes_a_users_passkey(app, client, alice):
    from tests.conftest import FlowDriver

    owner = FlowDriver(app.test_client())
    owner.sign_in("alice", PASSWORD)
    register(owner, SoftAuthenticator(), name="Alice's key")
    with app.app_context():
        make_user("root", superuser=True)
    admin = FlowDriver(client)
    admin.sign_in("root", PASSWORD)
    page = client.get(f"/admin/users/{alice}").get_data(as_text=True)
    assert "Alice&#39;s key" in page or "Alice's key" in page
    [device] = devices(app, alice)
    path = f"/admin/users/{alice}/authenticators/webauthn/{device.id}/remove"
    assert client.post(path, data={"csrf_token": csrf_token(page)}).status_code == 303
    assert devices(app, alice) == []
    assert events(app, "admin_authenticator_removed")


def test_allowed_aaguids_refuse_other_keys_and_keys_without_attestation(app, flows, alice):
    allowed = "cb69481e-8ff7-4039-93ec-0a2729a154a8"
    set_options(app, "default-authenticator-webauthn-setup", allowed_aaguids=[allowed])
    flows.sign_in("alice", PASSWORD)
    flows.open(SETUP)
    assert options_on(flows.page)["attestation"] == "direct"
    # Claims the allowed model, but with no attestation statement to back the claim.
    claimed = SoftAuthenticator(aaguid=bytes.fromhex(allowed.replace("-", "")))
    response = flows.submit(
        SETUP, {"name": "x", "webauthn_response": claimed.create(options_on(flows.page))}
    )
    assert response.status_code == 400
    assert "not allowed here" in flows.text
    assert devices(app, alice) == []


def test_the_same_answer_sent_in_parallel_signs_in_once(app, flows, alice):
    from concurrent.futures import ThreadPoolExecutor

    from idp.models import UserSession
    from tests.conftest import FlowDriver

    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    options = to_second_factor(flows)
    answer = authenticator.get(options)
    cookie = flows.client.get_cookie("gatehouse_session").value
    drivers = []
    for _ in range(4):
        driver = FlowDriver(app.test_client())
        driver.client.set_cookie("gatehouse_session", cookie)
        driver.page = flows.page
        drivers.append(driver)
    with app.app_context():
        sessions_before = db.session.query(UserSession).count()
    with ThreadPoolExecutor(max_workers=len(drivers)) as pool:
        answers = list(
            pool.map(lambda driver: driver.submit(AUTH, {"webauthn_response": answer}), drivers)
        )
    statuses = sorted(response.status_code for response in answers)
    assert statuses.count(303) == 1, statuses
    with app.app_context():
        assert db.session.query(UserSession).count() == sessions_before + 1


def test_the_second_factor_page_offers_what_works_without_javascript(app, flows, alice):
    from idp.credentials import authenticators
    from idp.models import User

    with_passkey(app, flows, SoftAuthenticator())
    to_second_factor(flows)
    assert "passkeys need JavaScript" in flows.text
    assert "Start again" in flows.text and 'name="code"' not in flows.page
    flows.client.get(f"/flow/{AUTH}/restart")

    with app.app_context():
        codes = authenticators.replace_recovery_codes(db.session.get(User, alice), 2)
        db.session.commit()
    to_second_factor(flows)
    assert "enter a code below instead" in flows.text
    assert 'name="code"' in flows.page and "data-webauthn-options" in flows.page
    # The user chooses: the recovery code works as well as the passkey would.
    assert flows.submit(AUTH, {"code": codes[0]}).status_code == 303
    assert flows.client.get("/me").status_code == 200


def test_device_classes_decide_what_counts(app, flows, alice):
    from idp.credentials import authenticators
    from idp.models import User

    set_options(app, "default-authentication-mfa-validation", device_classes=["webauthn"])
    with_passkey(app, flows, SoftAuthenticator())
    with app.app_context():
        codes = authenticators.replace_recovery_codes(db.session.get(User, alice), 2)
        db.session.commit()
    to_second_factor(flows)
    assert 'name="code"' not in flows.page
    response = flows.submit(AUTH, {"code": codes[0]})
    assert response.status_code == 400
    assert flows.client.get("/me").status_code != 200


def test_an_answer_after_five_minutes_is_refused_and_a_new_challenge_offered(app, flows, alice):
    from datetime import UTC, datetime, timedelta

    import time_machine

    authenticator = SoftAuthenticator()
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        with_passkey(app, flows, authenticator)
        options = to_second_factor(flows)
        clock.shift(timedelta(minutes=5, seconds=1))
        response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options)})
        assert response.status_code == 400
        assert "expired or was already used" in flows.text
        fresh = options_on(flows.page)
        assert fresh["challenge"] != options["challenge"]
        response = flows.submit(AUTH, {"webauthn_response": authenticator.get(fresh)})
        assert response.status_code == 303


def crafted_registration(options, cose_key: bytes, credential_id=b"\x07" * 16) -> str:
    """A registration answer with attestation "none" around a public key of our making: what
    a hostile browser may send. The signature-free format lets any key through the ceremony."""
    import hashlib
    import json
    import struct

    import cbor2
    from webauthn.helpers import bytes_to_base64url

    flags = 0x45  # user present, user verified, attested credential data
    authenticator_data = (
        hashlib.sha256(b"localhost").digest() + bytes([flags]) + struct.pack(">I", 0)
        + bytes(16) + struct.pack(">H", len(credential_id)) + credential_id + cose_key
    )  # fmt: skip
    client_data = {"type": "webauthn.create", "challenge": options["challenge"], "origin": ORIGIN}
    attestation = {"fmt": "none", "attStmt": {}, "authData": authenticator_data}
    return json.dumps({
        "id": bytes_to_base64url(credential_id), "rawId": bytes_to_base64url(credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": bytes_to_base64url(json.dumps(client_data).encode()),
            "attestationObject": bytes_to_base64url(cbor2.dumps(attestation)),
        },
    })  # fmt: skip


def cose(**parts) -> bytes:
    import cbor2

    return cbor2.dumps({int(label): value for label, value in parts.items()})


@pytest.mark.parametrize(
    "cose_key",
    [
        pytest.param(cose(), id="no parts"),
        pytest.param(cose(**{"1": 99, "3": -7}), id="unknown key type"),
        pytest.param(cose(**{"1": 2, "3": -7, "-1": 1}), id="EC2 without its point"),
        pytest.param(
            cose(**{"1": 2, "3": -7, "-1": 1, "-2": b"\0" * 32, "-3": b"\0" * 32}),
            id="a point off the curve",
        ),
    ],
)
def test_a_public_key_no_sign_in_could_use_is_refused_at_registration(app, flows, alice, cose_key):
    flows.sign_in("alice", PASSWORD)
    flows.open(SETUP)
    answer = crafted_registration(options_on(flows.page), cose_key)
    response = flows.submit(SETUP, {"name": "Forged", "webauthn_response": answer})
    assert response.status_code == 400
    assert "could not be used" in flows.text
    assert devices(app, alice) == []
    assert events(app, "authenticator_added") == []


@pytest.mark.parametrize("part", ["rawId", "clientDataJSON", "authenticatorData", "signature"])
def test_an_assertion_that_is_no_base64_is_refused_not_an_error(
    app, flows, alice, passkey_login, part
):
    """Anyone may send it: passwordless sign-in needs no name first."""
    import json

    answer = {
        "id": "a", "rawId": "a", "type": "public-key",
        "response": {"clientDataJSON": "e30", "authenticatorData": "AAAA", "signature": "AAAA"},
    }  # fmt: skip
    if part == "rawId":
        answer["id"] = answer["rawId"] = "é"
    else:
        answer["response"][part] = "a"
    flows.open(AUTH)
    response = flows.submit(AUTH, {"webauthn_response": json.dumps(answer)})
    assert response.status_code == 400
    assert "could not be used" in flows.text


def test_a_stored_key_that_cannot_be_opened_refuses_the_sign_in_not_an_error(
    app, flows, alice, passkey_login
):
    """A passkey saved before keys were checked at registration, whose key is a point off
    its curve."""
    authenticator = SoftAuthenticator()
    with_passkey(app, flows, authenticator)
    with app.app_context():
        device = db.session.scalar(select(WebAuthnDevice))
        device.public_key = cose(**{"1": 2, "3": -7, "-1": 1, "-2": b"\0" * 32, "-3": b"\0" * 32})
        db.session.commit()
    flows.open(AUTH)
    response = flows.submit(AUTH, {"webauthn_response": authenticator.get(options_on(flows.page))})
    assert response.status_code == 400
    assert flows.client.get("/me").status_code != 200
