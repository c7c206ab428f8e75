"""Password policies at work in flows: enrollment, password change, and expiry at sign-in."""

import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.credentials.passwords import check_password
from idp.models import User
from idp.models.types import utcnow
from tests.factories import PASSWORD, make_flow, make_user

NEW_PASSWORD = "violet kettle marches north"
PASSWORD_FIELDS = [
    {"key": "password", "label": "Password", "type": "password", "required": True},
    {"key": "password_repeat", "label": "Repeat", "type": "password", "required": True},
]
RULES = {
    "name": "house-password-rules",
    "type": "password",
    "options": {"min_length": 12, "min_digits": 1},
}
UNIQUE = {"name": "not-used-before", "type": "unique_password"}


def prompt(name, fields, validation_policies=()):
    options = {"fields": fields, "validation_policies": list(validation_policies)}
    return {"name": name, "type": "prompt", "options": options}


def update_user(name):
    return {"name": name, "type": "user_write", "options": {"user_creation_mode": "never"}}


def field_errors(page: str, key: str) -> list[str]:
    """The error list the form macro puts under one field."""
    match = re.search(rf'<ul class="errors" id="{re.escape(key)}-errors">(.*?)</ul>', page, re.S)
    if match is None:
        return []
    return [unescape(item).strip() for item in re.findall(r"<li>(.*?)</li>", match.group(1))]


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def password_of(app, username) -> str:
    with app.app_context():
        return db.session.scalar(select(User.password_hash).where(User.username == username))


def check_password_in_app(app, password, password_hash) -> bool:
    with app.app_context():
        return check_password(password, password_hash)


# --- enrollment -----------------------------------------------------------------------------


def enrollment_flow():
    fields = [
        {"key": "username", "label": "Username", "type": "username", "required": True},
        {"key": "email", "label": "Email", "type": "email", "required": True},
        *PASSWORD_FIELDS,
    ]
    return make_flow(
        [
            {"define": prompt("join-prompt", fields, [RULES["name"], UNIQUE["name"]])},
            {"define": {"name": "join-write", "type": "user_write"}},
        ],
        designation="enrollment",
        policies=[RULES, UNIQUE],
    )


def enrollment_answers(password):
    return {
        "username": "newbie",
        "email": "newbie@example.test",
        "password": password,
        "password_repeat": password,
    }


def test_a_weak_password_at_enrollment_shows_every_reason_by_the_field(app, flows):
    with app.app_context():
        slug = enrollment_flow()
    flows.open(slug)
    response = flows.submit(slug, enrollment_answers("newbie"))
    assert response.status_code == 400
    assert flows.stage == "prompt"
    (errors,) = field_errors(flows.page, "password")
    for reason in (
        "Use at least 12 characters.",
        "Use at least 1 digit.",
        "Don't use your username in your password.",
    ):
        assert reason in errors
    assert user_count(app) == 0


def test_a_common_password_at_enrollment_is_refused(app, flows):
    with app.app_context():
        slug = enrollment_flow()
    flows.open(slug)
    response = flows.submit(slug, enrollment_answers("QWERTY123456"))
    assert response.status_code == 400
    assert field_errors(flows.page, "password") == ["This password is too common."]
    assert user_count(app) == 0


def test_a_good_password_at_enrollment_creates_the_user(app, flows):
    with app.app_context():
        slug = enrollment_flow()
    flows.open(slug)
    response = flows.submit(slug, enrollment_answers("violet kettle 7 marches"))
    assert response.status_code == 303
    assert user_count(app) == 1
    assert check_password_in_app(app, "violet kettle 7 marches", password_of(app, "newbie"))


# --- password change ------------------------------------------------------------------------


def password_change_flow():
    return make_flow(
        [
            {"define": prompt("change-prompt", PASSWORD_FIELDS, [UNIQUE["name"]])},
            {"define": update_user("change-write")},
        ],
        designation="stage_configuration",
        authentication="require_authenticated",
        policies=[UNIQUE],
    )


def test_password_change_refuses_the_current_password_and_accepts_a_new_one(app, flows):
    with app.app_context():
        make_user("changer")
        slug = password_change_flow()
    flows.sign_in("changer", PASSWORD)
    flows.open(slug)
    response = flows.submit(slug, {"password": PASSWORD, "password_repeat": PASSWORD})
    assert response.status_code == 400
    assert field_errors(flows.page, "password") == [
        "You used this password before. Choose a new one."
    ]
    assert check_password_in_app(app, PASSWORD, password_of(app, "changer"))

    response = flows.submit(slug, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert response.status_code == 303
    assert check_password_in_app(app, NEW_PASSWORD, password_of(app, "changer"))


# --- expiry at sign-in ----------------------------------------------------------------------


def sign_in_with_forced_change():
    """identification → password → [new password, save it] when expired → login."""
    expiry = {
        "name": "ninety-days",
        "type": "password_expiry",
        "options": {"max_age_days": 90, "action": "force_change"},
    }
    when_expired = {
        "policies": [{"policy": "ninety-days", "negate": True}],
        "evaluate_on_plan": False,
        "re_evaluate_policies": True,
    }
    fields = [
        {"key": "why", "type": "static", "initial_value": "Your password has expired."},
        *PASSWORD_FIELDS,
    ]
    return make_flow(
        [
            {"stage": "default-authentication-identification"},
            {"stage": "default-authentication-password"},
            {"define": prompt("expired-prompt", fields, [UNIQUE["name"]]), **when_expired},
            {"define": update_user("expired-write"), **when_expired},
            {"stage": "default-authentication-login"},
        ],
        policies=[expiry, UNIQUE],
    )


def age_password(app, username, days):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        user.password_changed_at = utcnow() - timedelta(days=days)
        db.session.commit()


def test_a_fresh_password_signs_in_without_a_change(app, flows):
    with app.app_context():
        make_user("fresh")
        slug = sign_in_with_forced_change()
    age_password(app, "fresh", 89)
    flows.sign_in("fresh", PASSWORD, slug=slug)
    assert "Your password has expired." not in flows.text
    assert flows.client.get("/me").status_code == 200


def test_an_expired_password_must_be_changed_before_sign_in(app, flows):
    with app.app_context():
        make_user("stale")
        slug = sign_in_with_forced_change()
    age_password(app, "stale", 120)
    flows.sign_in("stale", PASSWORD, slug=slug)
    assert flows.stage == "prompt"
    assert "Your password has expired." in flows.text
    assert flows.client.get("/me").status_code == 302

    response = flows.submit(slug, {"password": PASSWORD, "password_repeat": PASSWORD})
    assert response.status_code == 400
    assert "You used this password before." in flows.text

    flows.submit(slug, {"password": NEW_PASSWORD, "password_repeat": NEW_PASSWORD})
    assert flows.client.get("/me").status_code == 200
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "stale"))
        assert check_password(NEW_PASSWORD, user.password_hash)
        assert utcnow() - user.password_changed_at < timedelta(minutes=5)


def test_an_expired_password_can_stop_the_sign_in_at_a_deny_stage(app, flows):
    expiry = {"name": "thirty-days", "type": "password_expiry", "options": {"max_age_days": 30}}
    notice = "Your password is too old. Ask the help desk for a new one."
    with app.app_context():
        make_user("stale", email="stale@example.test")
        make_user("fresh", email="fresh@example.test")
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"stage": "default-authentication-password"},
                {
                    "define": {"name": "too-old", "type": "deny", "options": {"message": notice}},
                    "policies": [{"policy": "thirty-days", "negate": True}],
                    "evaluate_on_plan": False,
                    "re_evaluate_policies": True,
                },
                {"stage": "default-authentication-login"},
            ],
            policies=[expiry],
        )
    age_password(app, "stale", 31)
    flows.sign_in("stale", PASSWORD, slug=slug)
    assert notice in flows.text
    assert flows.client.get("/me").status_code == 302

    flows.client.get(f"/flow/{slug}/restart")
    flows.sign_in("fresh", PASSWORD, slug=slug)
    assert notice not in flows.text
    assert flows.client.get("/me").status_code == 200


# --- the shipped flows' password rules ------------------------------------------------------

SHIPPED_ENROLLMENT = "default-enrollment-flow"
REPETITIVE = (
    "This password is mostly repeated or sequential characters (like aaaa, abcd or 1234). "
    "Mix in more of your own."
)


def shipped_signup(flows, password, username="newbie", email="joiner@example.test"):
    flows.open(SHIPPED_ENROLLMENT)
    answers = {
        "username": username,
        "name": "",
        "email": email,
        "password": password,
        "password_repeat": password,
    }
    return flows.submit(SHIPPED_ENROLLMENT, answers)


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaaaa", REPETITIVE),
        ("abcdefgh1234", REPETITIVE),
        ("zyxwvutsrq98", REPETITIVE),
        ("my gatehouse login", "Don't use the name of this service or site in your password."),
        ("hello Newbie 42 times", "Don't use your username in your password."),
        ("to Joiner with love", "Don't use your email address in your password."),
    ],
)
def test_the_shipped_sign_up_refuses_repetitive_sequential_and_context_passwords(
    app, flows, password, reason
):
    response = shipped_signup(flows, password)
    assert response.status_code == 400
    assert field_errors(flows.page, "password") == [reason]
    assert user_count(app) == 0


def test_the_shipped_sign_up_refuses_a_run_of_digits(app, flows):
    # "123456789" is common too: both reasons are given.
    shipped_signup(flows, "123456789")
    (errors,) = field_errors(flows.page, "password")
    assert "This password is too common." in errors and REPETITIVE in errors


def test_the_shipped_sign_up_refuses_the_sites_domain_name(app, flows):
    app.config["BASE_URL"] = "https://id.initech.example"
    shipped_signup(flows, "Initech forever and ever")
    assert field_errors(flows.page, "password") == [
        "Don't use the name of this service or site in your password."
    ]


@pytest.mark.parametrize("slug", ["default-password-change", "default-recovery-flow"])
def test_the_other_shipped_flows_bind_the_same_rules(app, slug):
    import yaml

    from tests.conftest import SHIPPED_FLOWS

    document = yaml.safe_load((SHIPPED_FLOWS / f"{slug}.yaml").read_text())
    rules = [policy for policy in document["policies"] if policy["type"] == "password"]
    assert rules and all(not policy.get("options") for policy in rules)  # the defaults
    prompts = [stage for stage in document["stages"] if stage["type"] == "prompt"]
    assert {policy["name"] for policy in rules} <= {
        name for stage in prompts for name in stage["options"]["validation_policies"]
    }
