"""An administrator deletes a policy, a stage or a group while another binds it.

Whichever commits first wins, and the other is told so: the deletion sees the new binding and
refuses (the policy is in use), or the binding sees the policy gone and asks for another one.
Never is a binding just made deleted along with its policy, which would leave what it guarded
(a flow, a step, an application) open to everyone. The interleaving is made: the second
request runs in another thread while the first stands at a chosen point. On SQLite and, with
IDP_TEST_DATABASE_URL, on PostgreSQL."""

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from idp.admin.catalog import policies as policy_pages
from idp.admin.catalog import stages as stage_pages
from idp.admin.flows import bindings as binding_pages
from idp.admin.users import groups as group_pages
from idp.applications.manage import create_application
from idp.core.extensions import db
from idp.models import Flow, Group, Policy, PolicyBinding, Stage, StageBinding
from tests.factories import make_flow, make_group
from tests.http.admin.conftest import events_of, post, signed_in, text
from tests.http.admin.test_application_flow_race import run_first

FLOW = "race-flow"
POLICY_DELETED = "This policy was deleted meanwhile. Choose another."
# Per kind: the model, the binding column naming it, the list of its pages, the message.
KINDS = {
    "policy": (Policy, PolicyBinding.policy_id, "policies", POLICY_DELETED),
    "stage": (
        Stage,
        StageBinding.stage_id,
        "stages",
        "This stage was deleted meanwhile. Choose another.",
    ),
    "group": (
        Group,
        PolicyBinding.group_id,
        "groups",
        "This group was deleted meanwhile. Choose another.",
    ),
}


@dataclass(frozen=True)
class Place:
    """Somewhere a policy or a stage is bound: the form that binds it, the audit action of
    that binding, and how the deletion's in-use check is found (the function it calls)."""

    kind: str  # "policy", "stage", "group"
    url: str
    bound_action: str
    check_module: object
    check_name: str

    @property
    def deleted_words(self) -> str:
        return KINDS[self.kind][3]


POLICY_CHECK = (policy_pages, "bindings_of")
PLACES = {
    "policy on a flow": Place(
        "policy", f"/admin/flows/{FLOW}/policies/new", "admin_policy_bound", *POLICY_CHECK
    ),
    "policy on a stage binding": Place(
        "policy",
        f"/admin/flows/{FLOW}/stages/STEP/policies/new",
        "admin_policy_bound",
        *POLICY_CHECK,
    ),
    "policy on an application": Place(
        "policy", "/admin/applications/wiki/bindings/new", "admin_application_bound", *POLICY_CHECK
    ),
    "stage on a flow": Place(
        "stage",
        f"/admin/flows/{FLOW}/stages/bind",
        "admin_stage_bound",
        stage_pages,
        "flows_using",
    ),
    "group on a stage binding": Place(
        "group",
        f"/admin/flows/{FLOW}/stages/STEP/policies/new",
        "admin_policy_bound",
        group_pages,
        "where_bound",
    ),
    "group on an application": Place(
        "group",
        "/admin/applications/wiki/bindings/new",
        "admin_application_bound",
        group_pages,
        "where_bound",
    ),
}


@pytest.fixture
def rows(app) -> dict:
    """A policy `gate`, a stage `spare` and a group `staff`, none used anywhere; a flow with
    one step; an application `wiki`."""
    with app.app_context():
        make_flow([{"define": {"name": "race-step", "type": "deny"}}], slug=FLOW)
        create_application(
            "wiki", "Wiki", "oauth2", {"redirect_uris": ["https://wiki.example.test/cb"]}
        )
        gate = Policy(name="gate", type="dummy", options={"result": False})
        spare = Stage(name="spare", type="deny", options={})
        staff = make_group("staff")
        db.session.add_all([gate, spare])
        db.session.commit()
        step = db.session.scalar(
            select(StageBinding.id).join(StageBinding.flow).where(Flow.slug == FLOW)
        )
        return {"policy": gate.id, "stage": spare.id, "group": staff.id, "step": step}


def bind_request(place: Place, rows: dict) -> tuple[str, dict]:
    url = place.url.replace("STEP", str(rows["step"]))
    if place.kind == "stage":
        data = {"stage": rows["stage"], "order": "30", "policy_engine_mode": "any"}
        return url, data | {"invalid_response_action": "retry"}
    data = {place.kind: rows[place.kind], "order": "0", "timeout": "30", "failure_result": ""}
    return url, data | {"enabled": "y"}


def delete_url(place: Place, rows: dict) -> str:
    return f"/admin/{KINDS[place.kind][2]}/{rows[place.kind]}/delete"


def bindings_to(app, place: Place, rows: dict) -> int:
    """How many bindings name the policy, stage or group (whichever `place` binds)."""
    column = KINDS[place.kind][1]
    with app.app_context():
        return db.session.scalar(select(db.func.count()).where(column == rows[place.kind]))


def still_exists(app, place: Place, rows: dict) -> bool:
    model = KINDS[place.kind][0]
    with app.app_context():
        return db.session.get(model, rows[place.kind]) is not None


def count(app, action: str) -> int:
    return len(events_of(app, action))


@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_binding_while_the_deletion_stands_after_its_check_is_refused(
    app, admin, admin_name, monkeypatch, rows, place
):
    """The deletion has found the row unused and holds it: the binding waits (a second here,
    then the deletion goes on and commits) and then finds it gone. Before the fix, the binding
    committed in that second and was then deleted with the policy."""
    url, data = bind_request(place, rows)
    other_admin = signed_in(app, admin_name)
    binds = run_first(
        monkeypatch,
        place.check_module,
        place.check_name,
        lambda: post(other_admin, url, data),
        after=True,
        wait=3,  # time for the binding to reach the held row, on a loaded machine too
    )

    response = post(admin, delete_url(place, rows))
    binds.joined()

    assert response.status_code == 303, text(response)
    (bind,) = binds
    assert bind.status_code == 400, text(bind)
    assert place.deleted_words in text(bind)
    assert not still_exists(app, place, rows)
    assert bindings_to(app, place, rows) == 0
    assert count(app, f"admin_{place.kind}_deleted") == 1
    assert count(app, place.bound_action) == 0


@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_deleting_while_a_binding_holds_the_row_finds_it_in_use(
    app, admin, admin_name, monkeypatch, rows, place
):
    """The binding has found the row and holds it: the deletion waits (a second here, then
    the binding goes on and commits), then sees the binding and refuses."""
    url, data = bind_request(place, rows)
    other_admin = signed_in(app, admin_name)
    deletions = run_first(
        monkeypatch,
        binding_pages,
        "still_there",
        lambda: post(other_admin, delete_url(place, rows)),
        after=True,
        wait=1,
    )

    response = post(admin, url, data)
    deletions.joined()

    assert response.status_code == 303, text(response)
    (deletion,) = deletions
    assert deletion.status_code == 409, text(deletion)
    assert "cannot be deleted while it is" in text(deletion)
    assert still_exists(app, place, rows)
    assert bindings_to(app, place, rows) == 1
    assert count(app, place.bound_action) == 1
    assert count(app, f"admin_{place.kind}_deleted") == 0


@pytest.mark.parametrize("place", PLACES.values(), ids=PLACES.keys())
def test_a_row_deleted_after_the_binding_form_found_it_is_refused_with_a_message(
    app, admin, admin_name, monkeypatch, rows, place
):
    """The deletion commits between the binding's lookup and its hold: a clear 400 at the
    field, not a 404 saying something was deleted."""
    url, data = bind_request(place, rows)
    other_admin = signed_in(app, admin_name)
    deletions = run_first(
        monkeypatch,
        binding_pages,
        "still_there",
        lambda: post(other_admin, delete_url(place, rows)).status_code,
    )

    response = post(admin, url, data)

    assert deletions == [303]
    assert response.status_code == 400, text(response)
    assert place.deleted_words in text(response)
    assert not still_exists(app, place, rows)
    assert count(app, place.bound_action) == 0
    assert count(app, f"admin_{place.kind}_deleted") == 1


def test_a_binding_switched_to_a_policy_being_deleted_keeps_its_subject(
    app, admin, admin_name, monkeypatch, rows
):
    """An edit that points an existing binding at the policy is a binding made, too."""
    with app.app_context():
        other = Policy(name="other", type="dummy", options={"result": False})
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    place = PLACES["policy on a flow"]
    url, data = bind_request(place, rows)
    assert post(admin, url, data | {"policy": other_id}).status_code == 303
    with app.app_context():
        binding_id = db.session.scalar(
            select(PolicyBinding.id).where(PolicyBinding.policy_id == other_id)
        )
    other_admin = signed_in(app, admin_name)
    edits = run_first(
        monkeypatch,
        policy_pages,
        "bindings_of",
        lambda: post(other_admin, f"/admin/flows/{FLOW}/bindings/{binding_id}/edit", data),
        after=True,
        wait=1,
    )

    response = post(admin, delete_url(place, rows))
    edits.joined()

    assert response.status_code == 303, text(response)
    (edit,) = edits
    assert edit.status_code == 400, text(edit)
    assert POLICY_DELETED in text(edit)
    with app.app_context():
        assert db.session.get(PolicyBinding, binding_id).policy_id == other_id
    assert count(app, "admin_policy_binding_changed") == 0


def test_a_step_switched_to_a_stage_being_deleted_keeps_its_stage(
    app, admin, admin_name, monkeypatch, rows
):
    place = PLACES["stage on a flow"]
    _url, data = bind_request(place, rows)
    with app.app_context():
        before = db.session.get(StageBinding, rows["step"]).stage_id
    other_admin = signed_in(app, admin_name)
    edits = run_first(
        monkeypatch,
        stage_pages,
        "flows_using",
        lambda: post(other_admin, f"/admin/flows/{FLOW}/stages/{rows['step']}/edit", data),
        after=True,
        wait=1,
    )

    response = post(admin, delete_url(place, rows))
    edits.joined()

    assert response.status_code == 303, text(response)
    (edit,) = edits
    assert edit.status_code == 400, text(edit)
    assert place.deleted_words in text(edit)
    with app.app_context():
        assert db.session.get(StageBinding, rows["step"]).stage_id == before
    assert count(app, "admin_stage_binding_changed") == 0
