"""A user is deleted (their own account deletion, or the purge of a lapsed sign-up) while an
administrator binds that user to a flow, a step or an application.

Whichever commits first wins, and the other is told so: the deletion sees the new binding and
keeps the user, or the binding sees the user gone and asks for another. Never is a binding
just made deleted along with its user, which would leave what it guarded open to everyone.
The interleaving is made as in test_binding_deletion_race.py. On SQLite and, with
IDP_TEST_DATABASE_URL, on PostgreSQL."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from idp.admin.flows import bindings as binding_pages
from idp.applications.manage import create_application
from idp.core.extensions import db
from idp.identity import deletion
from idp.models import Flow, PolicyBinding, StageBinding, User
from idp.models.types import utcnow
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_user
from tests.http.admin.conftest import events_of, post, signed_in, text
from tests.http.admin.test_application_flow_race import run_first

FLOW = "race-flow"
UNENROLL = "default-unenrollment-flow"
LEAVER = "leaver"
USER_DELETED = "This user was deleted meanwhile. Choose another."
KEPT = "Your account is named in who may use part of this site"
# Where the user is bound: the form's address and the audit action of that binding.
PLACES = {
    "user on a flow": (f"/admin/flows/{FLOW}/policies/new", "admin_policy_bound"),
    "user on a stage binding": (
        f"/admin/flows/{FLOW}/stages/STEP/policies/new",
        "admin_policy_bound",
    ),
    "user on an application": ("/admin/applications/wiki/bindings/new", "admin_application_bound"),
}


@pytest.fixture
def step(app) -> int:
    """A flow with one step and an application `wiki`, nothing bound; the step's id."""
    with app.app_context():
        make_flow([{"define": {"name": "race-step", "type": "deny"}}], slug=FLOW)
        create_application(
            "wiki", "Wiki", "oauth2", {"redirect_uris": ["https://wiki.example.test/cb"]}
        )
        db.session.commit()
        return db.session.scalar(
            select(StageBinding.id).join(StageBinding.flow).where(Flow.slug == FLOW)
        )


@pytest.fixture
def leaver(app) -> FlowDriver:
    """The user `leaver`, signed in, at the password step of deleting their account: the next
    submit deletes it."""
    with app.app_context():
        make_user(LEAVER)
    driver = FlowDriver(app.test_client())
    driver.sign_in(LEAVER, PASSWORD)
    driver.open(UNENROLL)
    driver.submit(UNENROLL, {})
    assert driver.stage == "password"
    return driver


def delete_account(driver: FlowDriver):
    return driver.submit(UNENROLL, {"password": PASSWORD})


def bind_request(place: str, step: int) -> tuple[str, dict]:
    url = PLACES[place][0].replace("STEP", str(step))
    data = {"user": LEAVER, "order": "0", "timeout": "30", "failure_result": ""}
    return url, data | {"enabled": "y"}


def user_exists(app) -> bool:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == LEAVER)) is not None


def bindings_of_users(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).where(PolicyBinding.user_id.is_not(None)))


def count(app, action: str) -> int:
    return len(events_of(app, action))


@pytest.mark.parametrize("place", PLACES)
def test_binding_while_the_account_deletion_stands_after_its_check_is_refused(
    app, admin_name, monkeypatch, step, leaver, place
):
    """The deletion holds the user and has found no binding: the binding waits (a second
    here, then the deletion goes on and commits) and then finds the user gone. Before the
    fix, on PostgreSQL, the binding committed in that second and was deleted with the user."""
    url, data = bind_request(place, step)
    other_admin = signed_in(app, admin_name)
    binds = run_first(
        monkeypatch,
        deletion,
        "unbound_users",
        lambda: post(other_admin, url, data),
        after=True,
        wait=3,  # time for the binding to reach the held row, on a loaded machine too
    )

    response = delete_account(leaver)
    binds.joined()

    assert response.status_code == 303, text(response)
    (bind,) = binds
    assert bind.status_code == 400, text(bind)
    assert USER_DELETED in text(bind)
    assert not user_exists(app)
    assert bindings_of_users(app) == 0
    assert count(app, "user_deleted") == 1
    assert count(app, PLACES[place][1]) == 0


@pytest.mark.parametrize("place", PLACES)
def test_deleting_an_account_while_a_binding_holds_the_user_keeps_it(
    app, admin, monkeypatch, step, leaver, place
):
    """The binding has found the user and holds it: the deletion waits (a second here, then
    the binding goes on and commits), then sees the binding and keeps the account."""
    url, data = bind_request(place, step)
    deletions = run_first(
        monkeypatch,
        binding_pages,
        "still_there",
        lambda: delete_account(leaver),
        after=True,
        wait=1,
    )

    response = post(admin, url, data)
    deletions.joined()

    assert response.status_code == 303, text(response)
    (deleted,) = deletions
    assert deleted.status_code == 403, text(deleted)
    assert KEPT in leaver.text
    assert user_exists(app)
    assert bindings_of_users(app) == 1
    assert count(app, PLACES[place][1]) == 1
    assert count(app, "user_deleted") == 0
    assert leaver.client.get("/me").status_code == 200


@pytest.mark.parametrize("place", PLACES)
def test_a_user_deleted_after_the_binding_form_found_it_is_refused_with_a_message(
    app, admin, monkeypatch, step, leaver, place
):
    """The deletion commits between the binding's lookup and its hold: a clear 400 at the
    field, not a foreign key's 500."""
    url, data = bind_request(place, step)
    deletions = run_first(
        monkeypatch, binding_pages, "still_there", lambda: delete_account(leaver).status_code
    )

    response = post(admin, url, data)

    assert deletions == [303]
    assert response.status_code == 400, text(response)
    assert USER_DELETED in text(response)
    assert not user_exists(app)
    assert count(app, PLACES[place][1]) == 0
    assert count(app, "user_deleted") == 1


@pytest.fixture
def lapsed_signup(app) -> None:
    """`leaver` as a sign-up never confirmed, older than the sign-up lifetime."""
    with app.app_context():
        user_id = make_user(LEAVER, active=False).id
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(signup_plan_hash="0" * 64, created_at=utcnow() - timedelta(days=400))
        )
        db.session.commit()


def purge(runner) -> str:
    result = runner.invoke(args=["maintenance", "purge"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.usefixtures("lapsed_signup")
def test_binding_a_lapsed_signup_while_the_purge_holds_it_is_refused(
    app, admin_name, runner, monkeypatch, step
):
    url, data = bind_request("user on an application", step)
    other_admin = signed_in(app, admin_name)
    binds = run_first(
        monkeypatch,
        deletion,
        "unbound_users",
        lambda: post(other_admin, url, data),
        after=True,
        wait=3,  # time for the binding to reach the held row, on a loaded machine too
    )

    output = purge(runner)
    binds.joined()

    assert "Deleted 1 unconfirmed sign-up(s)" in output
    (bind,) = binds
    assert bind.status_code == 400, text(bind)
    assert USER_DELETED in text(bind)
    assert not user_exists(app)
    assert bindings_of_users(app) == 0
    assert count(app, "admin_application_bound") == 0


@pytest.mark.usefixtures("lapsed_signup")
def test_a_purge_while_a_binding_holds_a_lapsed_signup_keeps_it(
    app, admin, runner, monkeypatch, step
):
    url, data = bind_request("user on an application", step)
    purges = run_first(
        monkeypatch, binding_pages, "still_there", lambda: purge(runner), after=True, wait=1
    )

    response = post(admin, url, data)
    purges.joined()

    assert response.status_code == 303, text(response)
    (output,) = purges
    assert "Deleted 0 unconfirmed sign-up(s)" in output
    assert user_exists(app)
    assert bindings_of_users(app) == 1
    assert count(app, "admin_application_bound") == 1
