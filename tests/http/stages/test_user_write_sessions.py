"""A new password ends the user's other sessions; the browser that changed it stays signed in."""

from sqlalchemy import select

from idp.core.extensions import db
from idp.models import UserSession
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_user

NEW_PASSWORD = "a brand new long secret"


def change_flow(fields):
    return make_flow(
        [
            {"define": {"name": "cw-prompt", "type": "prompt", "options": {"fields": fields}}},
            {
                "define": {
                    "name": "cw-write",
                    "type": "user_write",
                    "options": {"user_creation_mode": "never"},
                }
            },
        ],
        designation="stage_configuration",
        authentication="require_authenticated",
    )


PASSWORD_FIELDS = [{"key": "password", "type": "password", "required": True}]


def signed_in(app, username) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    assert driver.client.get("/me").status_code == 200
    return driver


def is_signed_in(driver) -> bool:
    return driver.client.get("/me").status_code == 200


def test_a_password_change_ends_the_other_sessions_only(app):
    with app.app_context():
        make_user("mover")
        slug = change_flow(PASSWORD_FIELDS)
    here, laptop, phone = (signed_in(app, "mover") for _ in range(3))
    here.open(slug)
    here.submit(slug, {"password": NEW_PASSWORD})
    assert is_signed_in(here)
    assert not is_signed_in(laptop) and not is_signed_in(phone)
    with app.app_context():
        states = db.session.scalars(select(UserSession.revoked_at).order_by(UserSession.id))
        assert [state is None for state in states] == [True, False, False]


def test_other_changes_leave_the_other_sessions_alone(app):
    with app.app_context():
        make_user("renamer")
        slug = change_flow([{"key": "name", "type": "text", "required": True}])
    here, elsewhere = signed_in(app, "renamer"), signed_in(app, "renamer")
    here.open(slug)
    here.submit(slug, {"name": "Renée"})
    assert is_signed_in(here) and is_signed_in(elsewhere)


def test_a_password_set_without_a_session_ends_every_session(app, flows):
    # As in recovery: the visitor proves who they are without being signed in.
    with app.app_context():
        make_user("forgetful")
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"stage": "default-authentication-password"},
                {
                    "define": {
                        "name": "rw-prompt",
                        "type": "prompt",
                        "options": {"fields": PASSWORD_FIELDS},
                    }
                },
                {
                    "define": {
                        "name": "rw-write",
                        "type": "user_write",
                        "options": {"user_creation_mode": "never"},
                    }
                },
            ],
            designation="recovery",
        )
    elsewhere = signed_in(app, "forgetful")
    flows.open(slug)
    flows.submit(slug, {"uid_field": "forgetful"})
    flows.submit(slug, {"password": PASSWORD})
    flows.submit(slug, {"password": NEW_PASSWORD})
    assert not is_signed_in(elsewhere)
    assert not is_signed_in(flows)
    fresh = FlowDriver(app.test_client())
    fresh.sign_in("forgetful", NEW_PASSWORD)
    assert is_signed_in(fresh)
