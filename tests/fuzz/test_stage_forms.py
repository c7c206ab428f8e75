"""Hypothesis fuzzing of every field of every stage type's form: whatever is posted (any
text, control characters, huge values, repeated or missing fields), the answer is never a
5xx or a traceback, and a refused answer leaves no half-written rows."""

import time

import pyotp
import pytest
from hypothesis import given

from idp.core.extensions import db
from idp.credentials import authenticators
from idp.identity.invitations import create_invitation
from idp.models import User
from idp.stages.registry import STAGE_TYPES
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, make_flow, make_user, unique
from tests.fuzz.strategies import FUZZ_SETTINGS, assert_sound, form_data, form_fields
from tests.http.stages.test_prompt_types import FIELDS as EVERY_PROMPT_FIELD_TYPE

PROMPT_FIELDS = [
    *EVERY_PROMPT_FIELD_TYPE,
    {"key": "username", "type": "username", "required": True, "order": 20},
    {"key": "email", "type": "email", "order": 21},
    {"key": "password", "type": "password", "order": 22},
    {"key": "text", "type": "text", "order": 23},
]


def single_stage_flow(stage_type: str, options=None, **flow_fields) -> str:
    stage = {"name": unique(f"fuzz-{stage_type}-"), "type": stage_type, "options": options or {}}
    # A second stage, so that passing the fuzzed one does not end the flow at once.
    after = {
        "name": unique("fuzz-after-"),
        "type": "prompt",
        "options": {"fields": [{"key": "note", "type": "text"}]},
    }
    return make_flow([{"define": stage}, {"define": after}], **flow_fields)


def signed_in(app, username) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    assert driver.client.get("/me").status_code == 200
    return driver


# How to bring each stage type with a form to be the current stage: (driver, slug).
def at_identification(app):
    driver = FlowDriver(app.test_client())
    driver.open("default-authentication-flow")
    return driver, "default-authentication-flow"


def at_password(app):
    driver, slug = at_identification(app)
    driver.submit(slug, {"uid_field": "fuzz-user"})
    return driver, slug


def at_prompt(app):
    with app.app_context():
        slug = single_stage_flow("prompt", {"fields": PROMPT_FIELDS}, designation="enrollment")
    driver = FlowDriver(app.test_client())
    driver.open(slug)
    return driver, slug


def at_email(app):
    driver = FlowDriver(app.test_client())
    driver.open("default-recovery-flow")
    driver.submit("default-recovery-flow", {"uid_field": "fuzz-user"})
    return driver, "default-recovery-flow"


def at_totp_setup(app):
    driver = signed_in(app, "fuzz-user")
    driver.open("default-authenticator-totp-setup")
    return driver, "default-authenticator-totp-setup"


def at_static_setup(app):
    driver = signed_in(app, "fuzz-user")
    driver.open("default-authenticator-static-setup")
    return driver, "default-authenticator-static-setup"


def at_webauthn_setup(app):
    driver = signed_in(app, "fuzz-user")
    driver.open("default-authenticator-webauthn-setup")
    return driver, "default-authenticator-webauthn-setup"


def at_code_check(app):
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == "fuzz-user"))
        secret = authenticators.new_totp_secret()
        code = pyotp.TOTP(secret).at(time.time() - 30)
        assert authenticators.add_totp_device(user, secret, authenticators.TotpSettings(), code)
        db.session.commit()
    driver = FlowDriver(app.test_client())
    driver.sign_in("fuzz-user", PASSWORD)
    return driver, "default-authentication-flow"


def at_invitation(app):
    with app.app_context():
        slug = single_stage_flow("invitation", designation="enrollment")
        _, token = create_invitation(name="fuzz", flow_slug=slug)
        db.session.commit()
    driver = FlowDriver(app.test_client())
    driver.open(slug, query_string={"itoken": token})
    return driver, slug


def at_flow_of(stage_type, options=None, **flow_fields):
    def bring(app):
        with app.app_context():
            slug = single_stage_flow(stage_type, options, **flow_fields)
        driver = signed_in(app, "fuzz-user")
        driver.open(slug)
        return driver, slug

    return bring


POSITIONS = {
    "identification": at_identification,
    "password": at_password,
    "prompt": at_prompt,
    "email": at_email,
    "authenticator_totp": at_totp_setup,
    "authenticator_static": at_static_setup,
    "authenticator_webauthn": at_webauthn_setup,
    "authenticator_validate": at_code_check,
    "captcha": at_flow_of("captcha"),
    "invitation": at_invitation,
    "consent": at_flow_of("consent", {"terms": "Be nice."}),
}


@pytest.fixture
def app_settings(app_settings):
    # Throttling would answer most examples at once, before their fields are read.
    return {
        **app_settings,
        "LOGIN_FREE_ATTEMPTS": 100000,
        "LOGIN_FREE_ATTEMPTS_PER_IP": 100000,
        "LOGIN_PROOF_AFTER": 100000,
        # Passkeys on, so that their setup form is there to fuzz.
        "WEBAUTHN_RP_ID": "localhost",
        "WEBAUTHN_ORIGIN": "http://localhost",
    }


def test_every_stage_type_with_a_form_is_fuzzed():
    with_forms = {name for name, stage_type in STAGE_TYPES.items() if stage_type.is_interactive}
    with_forms |= {"prompt", "captcha"}  # their forms are built from their options
    assert with_forms <= set(POSITIONS)


@pytest.mark.parametrize("stage_type", sorted(POSITIONS))
def test_fuzzed_answers_to_a_stage_never_break_the_server(app, stage_type):
    with app.app_context():
        make_user("fuzz-user", email="fuzz@example.test")
    driver, slug = POSITIONS[stage_type](app)
    assert driver.stage == stage_type
    fields = form_fields(driver.page)
    cookie = driver.client.get_cookie("gatehouse_session").value
    page = driver.page

    @FUZZ_SETTINGS
    @given(data=form_data(fields, csrf_token(page)))
    def post_fuzzed_answer(data):
        driver.client.set_cookie("gatehouse_session", cookie)  # back at the same stage
        driver.page = page
        assert_sound(app, lambda: driver.client.post(f"/flow/{slug}/", data=data))

    post_fuzzed_answer()
