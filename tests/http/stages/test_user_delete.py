"""Deleting your own account through the shipped unenrollment flow."""

from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Event, Group, PolicyBinding, User, UserSession, group_members
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_group, make_user, protect_wiki_for

UNENROLL = "default-unenrollment-flow"


def signed_in(app, username) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD)
    assert driver.client.get("/me").status_code == 200
    return driver


def delete_account(driver, password=PASSWORD, htmx=False):
    driver.open(UNENROLL)
    assert driver.stage == "prompt" and "This deletes your account" in driver.text
    driver.submit(UNENROLL, {}, htmx=htmx)
    assert driver.stage == "password"
    return driver.submit(UNENROLL, {"password": password}, htmx=htmx)


def count(app, statement) -> int:
    with app.app_context():
        return db.session.scalar(statement)


def test_the_unenrollment_flow_deletes_the_user_and_every_session(app):
    with app.app_context():
        staff = make_group("staff")
        user_id = make_user("leaver", groups=[staff]).id
    elsewhere = signed_in(app, "leaver")
    here = signed_in(app, "leaver")

    response = delete_account(here)

    assert response.status_code == 303
    landing = here.client.get(response.headers["Location"], follow_redirects=True)
    assert landing.status_code == 200
    assert landing.get_data(as_text=True).count("Your account was deleted.") == 1
    assert count(app, select(func.count()).where(User.username == "leaver")) == 0
    assert count(app, select(func.count()).where(UserSession.user_id == user_id)) == 0
    assert count(app, select(func.count()).where(group_members.c.user_id == user_id)) == 0
    assert count(app, select(func.count()).select_from(Group)) == 1  # the group stays
    assert here.client.get("/me").status_code == 302
    assert elsewhere.client.get("/me").status_code == 302
    with app.app_context():
        event = db.session.scalar(select(Event).where(Event.action == "user_deleted"))
        assert event.username == "leaver" and event.user_id is None
        assert event.detail["user_id"] == user_id and event.detail["sessions_ended"] == 2


def test_a_deleted_user_cannot_sign_in_again(app, flows):
    with app.app_context():
        make_user("gone")
    delete_account(signed_in(app, "gone"))
    flows.sign_in("gone", PASSWORD)
    assert flows.stage == "password" and "Invalid username or password." in flows.text


def test_a_wrong_password_deletes_nothing(app):
    with app.app_context():
        make_user("careful")
    here = signed_in(app, "careful")
    response = delete_account(here, password="not it")
    assert response.status_code == 400 and here.stage == "password"
    assert count(app, select(func.count()).where(User.username == "careful")) == 1
    assert here.client.get("/me").status_code == 200


def test_with_htmx_the_browser_is_sent_on_to_a_page_that_says_so(app):
    with app.app_context():
        make_user("swapper")
    here = signed_in(app, "swapper")
    response = delete_account(here, htmx=True)
    assert response.status_code == 200 and response.headers["HX-Redirect"] == "/"
    landing = here.client.get("/", follow_redirects=True)
    assert "Your account was deleted." in landing.get_data(as_text=True)


def test_the_flow_needs_a_signed_in_user(flows):
    flows.open(UNENROLL)
    assert flows.stage == "message" and "Please sign in first." in flows.text


def test_the_only_administrator_cannot_delete_themselves(app):
    with app.app_context():
        make_user("root", superuser=True)
    here = signed_in(app, "root")
    delete_account(here)
    assert "You are the only administrator." in here.text
    assert count(app, select(func.count()).where(User.username == "root")) == 1
    assert here.client.get("/me").status_code == 200


def test_an_administrator_may_go_when_another_remains(app):
    with app.app_context():
        make_user("root1", superuser=True)
        make_user("root2", superuser=True)
    delete_account(signed_in(app, "root1"))
    assert count(app, select(func.count()).where(User.username == "root1")) == 0


def test_rows_that_name_the_user_without_owning_it_are_kept(app):
    with app.app_context():
        user_id = make_user("author").id
        make_user("bystander")
    here = signed_in(app, "author")
    delete_account(here)
    with app.app_context():
        # Sign-in events stay in the audit log, no longer tied to a user id.
        assert db.session.scalar(select(func.count()).where(Event.user_id == user_id)) == 0
        assert db.session.scalar(select(func.count()).where(Event.username == "author")) > 0


def test_a_flow_may_not_delete_someone_other_than_the_signed_in_user(app):
    with app.app_context():
        make_user("victim")
        make_user("actor")
        slug = make_flow(
            [
                {"stage": "default-authentication-identification"},
                {"stage": "default-authentication-password"},
                {"define": {"name": "odd-delete", "type": "user_delete"}},
            ],
            designation="unenrollment",
        )
    here = signed_in(app, "actor")
    here.open(slug)
    here.submit(slug, {"uid_field": "victim"})
    here.submit(slug, {"password": PASSWORD})
    assert "Only your own account can be deleted here." in here.text
    assert count(app, select(func.count()).where(User.username == "victim")) == 1


def test_a_cross_site_arrival_asks_before_deleting(app):
    with app.app_context():
        make_user("clicked")
        slug = make_flow(
            [{"define": {"name": "bare-delete", "type": "user_delete"}}],
            designation="unenrollment",
            authentication="require_authenticated",
        )
    here = signed_in(app, "clicked")
    here.open(slug, headers={"Sec-Fetch-Site": "cross-site"})
    assert "Delete my account" in here.page
    assert count(app, select(func.count()).where(User.username == "clicked")) == 1
    here.submit(slug, {})
    assert count(app, select(func.count()).where(User.username == "clicked")) == 0


def test_the_message_after_deleting_is_the_stages_own(app):
    with app.app_context():
        make_user("quiet")
        slug = make_flow(
            [
                {
                    "define": {
                        "name": "quiet-delete",
                        "type": "user_delete",
                        "options": {"done_message": "Farewell, and thanks for all the fish."},
                    }
                }
            ],
            designation="unenrollment",
        )
    here = signed_in(app, "quiet")
    here.open(slug)
    landing = here.client.get("/", follow_redirects=True)
    assert "Farewell, and thanks for all the fish." in landing.get_data(as_text=True)
    assert count(app, select(func.count()).where(User.username == "quiet")) == 0


def test_a_user_named_by_a_binding_is_kept_and_told_why(app, runner):
    """Deleting them would delete the binding with them, and the application it alone
    guarded would open to every signed-in user."""
    with app.app_context():
        make_user("gatekeeper")
    protect_wiki_for(runner, "gatekeeper")
    here = signed_in(app, "gatekeeper")

    response = delete_account(here)

    assert response.status_code == 403
    assert "Your account is named in who may use part of this site" in here.text
    assert count(app, select(func.count()).where(User.username == "gatekeeper")) == 1
    assert count(app, select(func.count()).where(PolicyBinding.user_id.is_not(None))) == 1
    assert here.client.get("/me").status_code == 200


def test_a_binding_made_after_the_check_still_keeps_the_user_and_undoes_the_stage(
    app, runner, monkeypatch
):
    """An administrator binds the user between the stage's check and the deletion: the
    deletion itself skips a user a binding names, and the stage takes back what it did."""
    from idp.stages.user_delete import stage

    with app.app_context():
        make_user("raced")
    protect_wiki_for(runner, "raced")
    elsewhere = signed_in(app, "raced")
    here = signed_in(app, "raced")
    monkeypatch.setattr(stage, "is_named_by_a_binding", lambda user: False)

    response = delete_account(here)

    assert response.status_code == 403
    assert "Your account is named in who may use part of this site" in here.text
    assert count(app, select(func.count()).where(User.username == "raced")) == 1
    assert count(app, select(func.count()).where(Event.action == "user_deleted")) == 0
    assert here.client.get("/me").status_code == 200
    assert elsewhere.client.get("/me").status_code == 200
