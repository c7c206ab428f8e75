"""Settings kept in the database (idp.identity.site_settings) and what `enrollment` opens: a fresh
install has sign-up off; `idp settings set enrollment on` opens it."""

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Event, SiteSetting, User
from tests.conftest import FlowDriver
from tests.http.stages.test_invitation import follow, invite, invited_flow, open_link

SIGN_IN = "/flow/default-authentication-flow/"
ENROLLMENT = "default-enrollment-flow"
CLOSED = "Sign-up is closed on this site."


@pytest.fixture
def stored_settings():
    return {}  # a fresh install: nothing stored, every setting at its default


def setting_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SiteSetting))


def test_a_fresh_install_shows_enrollment_off(runner):
    result = runner.invoke(args=["settings", "show"])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["enrollment off"]


def test_a_fresh_install_offers_no_sign_up(client, flows):
    assert "Create an account" not in client.get(SIGN_IN).get_data(as_text=True)
    response = client.get("/enroll")
    assert response.status_code == 404 and CLOSED in response.get_data(as_text=True)
    response = flows.open(ENROLLMENT)
    assert response.status_code == 403 and CLOSED in flows.text
    assert 'name="username"' not in flows.page


def test_setting_enrollment_on_opens_sign_up_and_is_recorded(app, runner, client, flows):
    result = runner.invoke(args=["settings", "set", "enrollment", "On"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "enrollment set to on"
    assert runner.invoke(args=["settings", "show"]).stdout.splitlines() == ["enrollment on"]
    page = client.get(SIGN_IN).get_data(as_text=True)
    assert f'href="/flow/{ENROLLMENT}/">Create an account</a>' in page
    response = client.get("/enroll?next=/me")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/flow/{ENROLLMENT}/?next=/me"
    assert flows.open(ENROLLMENT).status_code == 200 and flows.stage == "prompt"
    with app.app_context():
        (event,) = db.session.scalars(select(Event).where(Event.action == "setting_changed"))
        assert event.detail["before"] == {"enrollment": "off"}
        assert event.detail["after"] == {"enrollment": "on"}
    again = runner.invoke(args=["settings", "set", "enrollment", "on"])
    assert again.exit_code == 0 and again.stdout.strip() == "enrollment was already on"
    with app.app_context():
        changes = select(func.count()).where(Event.action == "setting_changed")
        assert db.session.scalar(changes) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["settings", "set", "enrolment", "on"], "unknown setting 'enrolment'"),
        (["settings", "set", "enrollment", "yes"], "enrollment must be one of on, off"),
        (["settings", "set", "enrollment", ""], "enrollment must be one of on, off"),
    ],
)
def test_a_bad_key_or_value_gives_one_line_exit_2_and_writes_nothing(app, runner, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert message in line and "Traceback" not in result.output
    assert setting_rows(app) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Event)) == 0


def test_turning_sign_up_off_stops_a_sign_up_under_way(app, runner, flows):
    runner.invoke(args=["settings", "set", "enrollment", "on"])
    flows.open(ENROLLMENT)
    assert flows.stage == "prompt"
    assert runner.invoke(args=["settings", "set", "enrollment", "off"]).exit_code == 0
    response = flows.submit(
        ENROLLMENT,
        {
            "username": "late",
            "email": "late@example.test",
            "password": "a long enough passphrase",
            "password_repeat": "a long enough passphrase",
        },
    )
    assert response.status_code == 403 and CLOSED in flows.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "late")) is None


def test_an_invitation_still_lets_someone_in_while_sign_up_is_off(app):
    with app.app_context():
        slug = invited_flow()
    _, token = invite(app)
    driver = FlowDriver(app.test_client())
    follow(driver, open_link(driver, slug, token))
    assert driver.stage == "invitation"
    driver.submit(slug, {"itoken": token})
    assert driver.stage == "prompt"


def test_an_enrollment_flow_that_lets_visitors_in_without_invitation_is_closed(app, flows):
    with app.app_context():
        slug = invited_flow(continue_flow_without_invitation=True)
    response = flows.open(slug)
    assert response.status_code == 403 and CLOSED in flows.text


def test_a_warm_worker_sees_each_change_of_sign_up_at_once_without_reading_it_again(
    app, runner, client, query_counter
):
    """The settings are cached under the flows revision (a setting's write changes it): the
    sign-in page reads only that revision, and shows the link as soon as a change is committed,
    whichever way (the CLI, or a row written through the ORM by another process)."""
    link = f'href="/flow/{ENROLLMENT}/">Create an account</a>'

    def sign_in_page() -> str:
        return client.get(SIGN_IN).get_data(as_text=True)

    assert link not in sign_in_page()  # warms the worker: flow and settings cached
    assert query_counter.count(sign_in_page) == 1
    assert link not in sign_in_page()
    assert runner.invoke(args=["settings", "set", "enrollment", "on"]).exit_code == 0
    assert link in sign_in_page()
    assert query_counter.count(sign_in_page) == 1
    assert link in sign_in_page()
    with app.app_context():
        db.session.get(SiteSetting, "enrollment").value = "off"
        db.session.commit()
    assert link not in sign_in_page()
    assert runner.invoke(args=["settings", "set", "enrollment", "on"]).exit_code == 0
    assert link in sign_in_page()
