"""The flow pages: the seeds' procedures through HTTP, then signing in to see the flow behave as
bound; bad input, reordering, export and import, and the audit log."""

import io
import re

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy import update as sa_update

from idp.applications.manage import create_application
from idp.core.extensions import db
from idp.models import Flow, Group, Policy, PolicyBinding, Provider, Stage, StageBinding
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_group, make_user
from tests.http.admin.conftest import events_of, post, text, token_of

STOP = "Members stop here."
SIGN_IN_STEPS = [
    {"stage": "default-authentication-identification", "order": 10},
    {"stage": "default-authentication-password", "order": 20},
    {"stage": "default-authentication-login", "order": 100},
]


@pytest.fixture
def slug(app) -> str:
    """A sign-in flow, a deny stage not yet bound, a group `staff` with member `member`, and
    a user `outsider`."""
    with app.app_context():
        staff = make_group("staff")
        make_user("member", groups=[staff])
        make_user("outsider")
        db.session.add(Stage(name="members-stop", type="deny", options={"message": STOP}))
        db.session.commit()
        return make_flow(SIGN_IN_STEPS, slug="gate-test")


def row_id(app, model, **where) -> int:
    with app.app_context():
        return db.session.scalar(select(model.id).filter_by(**where))


def stage_bindings(app, slug: str) -> list[tuple[str, int]]:
    with app.app_context():
        rows = db.session.execute(
            select(Stage.name, StageBinding.order)
            .join(StageBinding.stage)
            .join(StageBinding.flow)
            .where(Flow.slug == slug)
            .order_by(StageBinding.order, StageBinding.id)
        )
        return [tuple(row) for row in rows]


def binding_of(app, slug: str, stage: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(StageBinding.id)
            .join(StageBinding.stage)
            .join(StageBinding.flow)
            .where(Flow.slug == slug, Stage.name == stage)
        )


def href(page: str, label: str) -> str:
    match = re.search(rf'<a[^>]*href="([^"]+)"[^>]*>\s*{re.escape(label)}\s*</a>', page)
    assert match, f"no link {label!r}"
    return match.group(1).replace("&amp;", "&")


def flow_policy_bindings(app, slug: str) -> int:
    with app.app_context():
        flow_id = db.session.scalar(select(Flow.id).where(Flow.slug == slug))
        return db.session.scalar(
            select(db.func.count()).select_from(PolicyBinding).filter_by(flow_id=flow_id)
        )


def binding_item(page: str, binding: int) -> str:
    """The stage binding's list item: its <details> (the caret) and what it holds."""
    match = re.search(rf'<li id="binding-{binding}".*?</li>', page, re.S)
    assert match and "<details>" in match.group(0)
    return match.group(0)


def signs_in(app, username: str, slug: str) -> tuple[bool, str]:
    driver = FlowDriver(app.test_client())
    driver.open(slug)
    if driver.stage == "message":
        return False, driver.text
    response = driver.sign_in(username, PASSWORD, slug=slug)
    return response.status_code == 303 and STOP not in driver.text, driver.text


def bind_stop_stage(app, admin, slug: str) -> int:
    """Flows → the flow → Stage Bindings → Bind existing stage."""
    flow_page = text(admin.get(href(text(admin.get("/admin/flows")), "gate-test")))
    bindings_page = text(admin.get(href(flow_page, "Stage Bindings")))
    assert "Bind existing stage" in bindings_page
    bind_page = admin.get(href(bindings_page, "Bind existing stage"))
    assert bind_page.status_code == 200
    stage = row_id(app, Stage, name="members-stop")
    data = {"stage": stage, "order": "30", "re_evaluate_policies": "y"}
    data |= {"policy_engine_mode": "any", "invalid_response_action": "retry"}
    response = post(admin, f"/admin/flows/{slug}/stages/bind", data)
    assert response.status_code == 303
    return binding_of(app, slug, "members-stop")


def test_binding_a_group_to_a_stage_stops_only_members(app, admin, slug):
    binding = bind_stop_stage(app, admin, slug)
    page = text(admin.get(f"/admin/flows/{slug}/stages"))
    dialog = href(binding_item(page, binding), "Bind existing policy/group/user")
    group_tab = href(text(admin.get(dialog)), "Group")
    assert "Create Binding" in text(admin.get(group_tab))
    data = {"group": row_id(app, Group, name="staff"), "order": "0", "enabled": "y"}
    data |= {"timeout": "30", "failure_result": ""}
    assert post(admin, group_tab, data).status_code == 303
    page = text(admin.get(f"/admin/flows/{slug}/stages"))
    assert "Checked just before this step, with the user known by then" in page
    assert "group staff" in page
    (bound,) = events_of(app, "admin_stage_bound")
    assert bound.detail["after"]["stage"] == "members-stop" and bound.detail["after"]["order"] == 30
    (policy,) = events_of(app, "admin_policy_bound")
    assert policy.detail["after"]["bound_to"] == "the stage members-stop"
    assert policy.detail["after"]["subject"] == "group staff"
    assert policy.detail["target"]["name"] == slug
    passed, page = signs_in(app, "member", slug)
    assert not passed and STOP in page
    assert signs_in(app, "outsider", slug)[0]


def test_a_group_bound_to_the_flow_decides_who_may_use_it(app, admin, slug):
    with app.app_context():
        welcome = {"name": "welcome", "type": "deny", "options": {"message": "Hello, staff."}}
        make_flow([{"define": welcome}], slug="staff-only")
    page = text(admin.get("/admin/flows/staff-only/policies"))
    group_tab = href(text(admin.get(href(page, "Bind existing policy/group/user"))), "Group")
    data = {"group": row_id(app, Group, name="staff"), "order": "0", "enabled": "y"}
    assert post(admin, group_tab, data | {"timeout": "30"}).status_code == 303
    assert "group staff" in text(admin.get("/admin/flows/staff-only/policies"))
    for username, welcomed in (("member", True), ("outsider", False)):
        driver = FlowDriver(app.test_client())
        driver.sign_in(username, PASSWORD)
        driver.open("staff-only")
        assert ("Hello, staff." in driver.text) is welcomed, username


def test_a_binding_without_policies_always_runs(app, admin, slug):
    bind_stop_stage(app, admin, slug)
    assert "Always runs" in text(admin.get(f"/admin/flows/{slug}/stages"))
    assert not signs_in(app, "outsider", slug)[0]


def test_flows_are_listed_with_their_stage_counts(app, admin, slug):
    page = text(admin.get("/admin/flows"))
    assert re.search(r">gate-test</a></td>\s*<td><code>gate-test</code></td>", page)
    assert re.search(r"<code>gate-test</code></td>\s*<td>authentication</td>\s*<td>3</td>", page)
    assert "flows" in text(admin.get("/admin/flows?page=1"))


FLOW = {
    "slug": "new-flow",
    "name": "New flow",
    "title": "Welcome",
    "designation": "enrollment",
    "authentication": "require_unauthenticated",
    "denied_action": "message",
    "policy_engine_mode": "all",
}


def test_an_administrator_creates_edits_and_deletes_a_flow(app, admin):
    response = post(admin, "/admin/flows/new", FLOW)
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/flows/new-flow/"
    assert "Welcome" in text(admin.get("/admin/flows/new-flow/"))
    (event,) = events_of(app, "admin_flow_created")
    assert event.detail["after"] == FLOW
    response = post(admin, "/admin/flows/new-flow/edit", FLOW | {"name": "Renamed"})
    assert response.status_code == 303
    (event,) = events_of(app, "admin_flow_changed")
    assert (event.detail["before"], event.detail["after"]) == (
        {"name": "New flow"},
        {"name": "Renamed"},
    )
    assert "cannot be undone" in text(admin.get("/admin/flows/new-flow/delete"))
    assert post(admin, "/admin/flows/new-flow/delete").status_code == 303
    assert row_id(app, Flow, slug="new-flow") is None
    assert events_of(app, "admin_flow_deleted")[0].detail["before"]["name"] == "Renamed"


def test_the_deletion_page_says_where_the_flow_is_used(app, admin):
    page = text(admin.get("/admin/flows/default-enrollment-flow/delete"))
    assert "<li>the stage default-authentication-identification</li>" in page
    assert "This flow is in use." not in text(admin.get("/admin/flows/initial-setup/delete"))


def test_deleting_a_flow_removes_its_bindings_but_keeps_its_stages(app, admin, slug):
    binding = bind_stop_stage(app, admin, slug)
    data = {"group": row_id(app, Group, name="staff"), "order": "0", "timeout": "30"}
    assert (
        post(admin, f"/admin/flows/{slug}/stages/{binding}/policies/new", data).status_code == 303
    )
    assert post(admin, f"/admin/flows/{slug}/delete").status_code == 303
    with app.app_context():
        orphans = select(db.func.count()).where(
            PolicyBinding.stage_binding_id.is_not(None),
            PolicyBinding.stage_binding_id.not_in(select(StageBinding.id)),
        )
        assert db.session.scalar(orphans) == 0
        assert row_id(app, Stage, name="members-stop") is not None
    assert stage_bindings(app, slug) == []


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("slug", "gate-test", "Another flow has this slug."),
        ("slug", "Bad Slug", "Use lower-case letters, digits, - and _ only."),
        ("slug", "", "Enter a slug."),
        ("slug", "email", "This slug is reserved for Gatehouse&#39;s own addresses"),
        ("name", "", "Enter a name."),
        ("designation", "nonsense", "Not a valid choice"),
        ("authentication", "everyone", "Not a valid choice"),
    ],
)
def test_bad_flow_settings_are_refused(app, admin, slug, field, value, message):
    response = post(admin, "/admin/flows/new", FLOW | {field: value})
    assert response.status_code == 400
    assert message in text(response)
    assert row_id(app, Flow, slug="new-flow") is None


def test_renaming_a_flow_to_a_taken_slug_is_refused(app, admin, slug):
    with app.app_context():
        make_flow([], slug="other")
    response = post(admin, "/admin/flows/other/edit", FLOW | {"slug": slug})
    assert response.status_code == 400
    assert "Another flow has this slug." in text(response)


def bind(admin, slug, stage, order="10"):
    data = {"stage": stage, "order": order, "policy_engine_mode": "any"}
    return post(
        admin, f"/admin/flows/{slug}/stages/bind", data | {"invalid_response_action": "retry"}
    )


def test_bad_stage_bindings_are_refused(app, admin, slug):
    stage = row_id(app, Stage, name="members-stop")
    response = bind(admin, slug, stage, order="soon")
    assert response.status_code == 400
    assert "Enter a whole number." in text(response)
    assert bind(admin, slug, "").status_code == 400
    assert "Choose a stage." in text(bind(admin, slug, ""))
    assert bind(admin, slug, 999_999).status_code == 404
    assert len(stage_bindings(app, slug)) == 3


def test_a_stage_may_be_bound_twice(app, admin, slug):
    stage = row_id(app, Stage, name="members-stop")
    assert bind(admin, slug, stage, "30").status_code == 303
    assert bind(admin, slug, stage, "40").status_code == 303
    assert [name for name, _ in stage_bindings(app, slug)].count("members-stop") == 2


def test_a_stage_binding_is_edited_and_removed(app, admin, slug):
    binding = bind_stop_stage(app, admin, slug)
    stage = row_id(app, Stage, name="members-stop")
    data = {"stage": stage, "order": "50", "evaluate_on_plan": "y", "policy_engine_mode": "all"}
    url = f"/admin/flows/{slug}/stages/{binding}/edit"
    assert 'value="30"' in text(admin.get(url))
    assert post(admin, url, data | {"invalid_response_action": "restart"}).status_code == 303
    (event,) = events_of(app, "admin_stage_binding_changed")
    assert event.detail["before"]["order"] == 30 and event.detail["after"]["order"] == 50
    assert post(admin, f"/admin/flows/{slug}/stages/{binding}/remove").status_code == 303
    assert "members-stop" not in dict(stage_bindings(app, slug))
    assert events_of(app, "admin_stage_unbound")[0].detail["before"]["stage"] == "members-stop"


def test_stage_bindings_move_up_and_down(app, admin, slug):
    login = binding_of(app, slug, "default-authentication-login")
    assert post(admin, f"/admin/flows/{slug}/stages/{login}/move/up").status_code == 303
    names = [name for name, _ in stage_bindings(app, slug)]
    assert names[1:] == ["default-authentication-login", "default-authentication-password"]
    assert post(admin, f"/admin/flows/{slug}/stages/{login}/move/down").status_code == 303
    assert [order for _, order in stage_bindings(app, slug)] == [10, 20, 100]
    (first, _second) = events_of(app, "admin_stage_binding_moved")
    assert first.detail["after"]["stages"][1] == "default-authentication-login"
    identification = binding_of(app, slug, "default-authentication-identification")
    post(admin, f"/admin/flows/{slug}/stages/{identification}/move/up")
    assert len(events_of(app, "admin_stage_binding_moved")) == 2


def test_a_missing_binding_is_a_404(app, admin, slug):
    assert admin.get(f"/admin/flows/{slug}/stages/999999/edit").status_code == 404
    assert admin.get(f"/admin/flows/{slug}/stages/999999/policies/new").status_code == 404
    assert post(admin, f"/admin/flows/{slug}/bindings/999999/delete").status_code == 404
    assert admin.get("/admin/flows/nowhere/").status_code == 404


@pytest.mark.parametrize(
    ("subjects", "status", "message"),
    [
        ({}, 400, "Choose exactly one policy, group or user."),
        ({"group": "GROUP", "user": "member"}, 400, "Choose exactly one policy, group or user."),
        ({"user": "nobody"}, 400, "There is no such user."),
        ({"group": "999999"}, 400, "There is no such group."),
        ({"group": "GROUP", "timeout": "0"}, 400, "Choose from 1 to 300 seconds."),
        ({"group": "GROUP", "order": "x"}, 400, "Enter a whole number."),
        ({"group": "GROUP", "failure_result": "maybe"}, 400, "Not a valid choice"),
    ],
)
def test_bad_policy_bindings_are_refused(app, admin, slug, subjects, status, message):
    group = str(row_id(app, Group, name="staff"))
    data = {"order": "0", "timeout": "30", "failure_result": "", "enabled": "y"}
    data |= {key: group if value == "GROUP" else value for key, value in subjects.items()}
    response = post(admin, f"/admin/flows/{slug}/policies/new", data)
    assert response.status_code == status
    assert message in text(response)
    assert flow_policy_bindings(app, slug) == 0


def test_a_policy_binding_is_edited_and_deleted(app, admin, slug):
    with app.app_context():
        db.session.add(Policy(name="always", type="dummy", options={"result": True}))
        db.session.commit()
    data = {"policy": row_id(app, Policy, name="always"), "order": "5", "timeout": "30"}
    response = post(admin, f"/admin/flows/{slug}/policies/new", data | {"enabled": "y"})
    assert response.status_code == 303
    binding = row_id(app, PolicyBinding, order=5)
    url = f"/admin/flows/{slug}/bindings/{binding}/edit"
    assert "policy always" in text(admin.get(f"/admin/flows/{slug}/policies"))
    edited = {"user": "member", "order": "7", "timeout": "60", "failure_result": "false"}
    assert post(admin, url, edited).status_code == 303
    (event,) = events_of(app, "admin_policy_binding_changed")
    assert event.detail["before"]["subject"] == "policy always"
    assert event.detail["after"] == {
        "subject": "user member",
        "order": 7,
        "timeout": 60,
        "enabled": False,
        "failure_result": False,
    }
    assert post(admin, f"/admin/flows/{slug}/bindings/{binding}/delete").status_code == 303
    assert row_id(app, PolicyBinding, id=binding) is None
    assert events_of(app, "admin_policy_unbound")[0].detail["before"]["subject"] == "user member"


def test_export_downloads_the_flow_as_yaml(app, admin, slug):
    response = admin.get(f"/admin/flows/{slug}/export.yaml")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == f'attachment; filename="{slug}.yaml"'
    document = yaml.safe_load(text(response))
    assert document["flow"]["slug"] == slug
    assert f"/admin/flows/{slug}/export.yaml" in text(admin.get(f"/admin/flows/{slug}/export"))


def upload(admin, slug, content: str, name="flow.yaml"):
    data = {"file": (io.BytesIO(content.encode()), name)}
    return post(admin, f"/admin/flows/{slug}/import", data)


def test_export_and_import_round_trip(app, admin, slug):
    exported = yaml.safe_load(text(admin.get(f"/admin/flows/{slug}/export.yaml")))
    exported["flow"]["name"] = "Imported name"
    exported["flow"]["stages"].append({"stage": "members-stop", "order": 50})
    content = yaml.safe_dump(exported)
    preview = upload(admin, slug, content)
    assert preview.status_code == 200
    page = text(preview)
    assert f"Change the flow {slug}" in page and "Confirm the import" in page
    assert row_id(app, Flow, name="Imported name") is None
    assert len(stage_bindings(app, slug)) == 3
    confirm = post(admin, f"/admin/flows/{slug}/import/confirm", {"content": content})
    assert confirm.status_code == 303
    assert row_id(app, Flow, name="Imported name") is not None
    assert ("members-stop", 50) in stage_bindings(app, slug)
    (event,) = events_of(app, "admin_flow_imported")
    assert event.detail["before"]["name"] == slug
    assert event.detail["after"]["name"] == "Imported name"
    assert not signs_in(app, "member", slug)[0]


def test_importing_a_bad_file_lists_its_problems_and_writes_nothing(app, admin, slug):
    exported = yaml.safe_load(text(admin.get(f"/admin/flows/{slug}/export.yaml")))
    exported["flow"]["designation"] = "nonsense"
    exported["flow"]["stages"].append({"stage": "no-such-stage", "order": 50})
    exported["flow"]["policies"] = [{"group": "ghosts"}]
    response = upload(admin, slug, yaml.safe_dump(exported))
    assert response.status_code == 400
    assert "nothing was changed" in text(response)
    assert "flow.designation" in text(response)
    content = yaml.safe_dump(exported | {"flow": exported["flow"] | {"designation": "recovery"}})
    response = post(admin, f"/admin/flows/{slug}/import/confirm", {"content": content})
    assert response.status_code == 400
    page = text(response)
    assert "flow.stages[3].stage: no stage named &#39;no-such-stage&#39;" in page
    assert "flow.policies[0]: no group named &#39;ghosts&#39;" in page
    assert len(stage_bindings(app, slug)) == 3
    with app.app_context():
        assert (
            db.session.scalar(select(Flow.designation).where(Flow.slug == slug)) == "authentication"
        )
    assert events_of(app, "admin_flow_imported") == []


def test_a_file_with_applications_is_refused_on_a_flows_import_page(app, admin, slug):
    exported = yaml.safe_load(text(admin.get(f"/admin/flows/{slug}/export.yaml")))
    exported["applications"] = [
        {
            "slug": "wiki",
            "name": "Wiki",
            "provider": {
                "type": "proxy",
                "options": {"external_host": "https://wiki.example.test"},
            },
        }
    ]
    response = upload(admin, slug, yaml.safe_dump(exported))
    assert response.status_code == 400
    assert "applications are imported with `idp flows import`" in text(response)
    only_applications = {"version": 1, "applications": exported["applications"]}
    response = upload(admin, slug, yaml.safe_dump(only_applications))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        ("", "flow.yaml", "Choose a file to upload."),
        ("flow: [unclosed", "flow.yaml", "not valid YAML"),
        ("{", "flow.json", "not valid JSON"),
        ("# " + "x" * 300_000, "big.yaml", "larger than 256 KiB"),
        (
            "version: 1\nflow: {slug: other, name: x, designation: recovery}\n",
            "f.yaml",
            "not &#39;gate-test&#39;",
        ),
    ],
)
def test_unreadable_files_are_refused(app, admin, slug, content, name, message):
    response = upload(admin, slug, content, name)
    assert response.status_code == 400
    assert message in text(response)


def test_the_stage_bindings_tab_links_to_creating_and_binding_a_stage(app, admin, slug):
    page = text(admin.get(f"/admin/flows/{slug}/stages"))
    assert href(page, "Create and bind stage") == f"/admin/flows/{slug}/stages/create"
    assert href(page, "All stages") == "/admin/stages"


def test_the_flow_tabs_link_to_each_other(app, admin, slug):
    page = text(admin.get(f"/admin/flows/{slug}/"))
    for label in ("Overview", "Stage Bindings", "Policy Bindings", "Export", "Import"):
        assert admin.get(href(page, label)).status_code == 200


# -- Create and bind stage -------------------------------------------------------------------


def create_and_bind(admin, slug: str, type_name: str, data: dict):
    return post(admin, f"/admin/flows/{slug}/stages/create/{type_name}", data)


GATE = {"name": "closed-gate", "option-message": STOP, "order": "30", "policy_engine_mode": "any"}
GATE |= {"re_evaluate_policies": "y", "invalid_response_action": "retry"}


def test_create_and_bind_stage_makes_the_stage_and_its_binding_in_one_step(app, admin, slug):
    flow_page = text(admin.get(href(text(admin.get("/admin/flows")), "gate-test")))
    bindings_page = text(admin.get(href(flow_page, "Stage Bindings")))
    choose_page = text(admin.get(href(bindings_page, "Create and bind stage")))
    deny_form = admin.get(href(choose_page, "Deny"))
    assert deny_form.status_code == 200
    # The suggested order comes before the sign-in stage (order 100), not after it.
    assert 'name="option-message"' in text(deny_form) and 'value="30"' in text(deny_form)
    response = create_and_bind(admin, slug, "deny", GATE)
    assert response.status_code == 303
    binding = binding_of(app, slug, "closed-gate")
    assert response.headers["Location"].endswith(f"/admin/flows/{slug}/stages#binding-{binding}")
    assert ("closed-gate", 30) in stage_bindings(app, slug)
    (created,) = events_of(app, "admin_stage_created")
    assert created.detail["after"] == {
        "name": "closed-gate",
        "type": "deny",
        **{"options.message": STOP},
    }
    (bound,) = events_of(app, "admin_stage_bound")
    assert bound.detail["after"]["stage"] == "closed-gate"
    assert bound.detail["target"]["name"] == slug
    passed, page = signs_in(app, "outsider", slug)
    assert not passed and STOP in page


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a name."),
        ({"name": "members-stop"}, "name", "A stage with this name exists already."),
        ({"order": "soon"}, "order", "Enter a whole number."),
        ({"invalid_response_action": "explode"}, "invalid_response_action", "Not a valid choice"),
    ],
)
def test_create_and_bind_stage_refuses_bad_input_and_writes_nothing(
    app, admin, slug, change, field, message
):
    response = create_and_bind(admin, slug, "deny", GATE | change)
    assert response.status_code == 400
    errors = text(response).split(f'id="{field}-errors"', 1)[1].split("</ul>", 1)[0]
    assert message in errors
    assert len(stage_bindings(app, slug)) == 3
    assert row_id(app, Stage, name="closed-gate") is None
    assert events_of(app, "admin_stage_created") == events_of(app, "admin_stage_bound") == []


def test_create_and_bind_stage_shows_bad_settings_at_their_field(app, admin, slug):
    data = GATE | {"option-subject": "Hi", "option-token_expiry_minutes": "30"}
    data |= {"option-sends_per_hour": "many", "order": "soon"}
    response = create_and_bind(admin, slug, "email", data)
    assert response.status_code == 400
    page = text(response)
    assert "must be a whole number" in page.split('id="option-sends_per_hour-errors"', 1)[1]
    assert "Enter a whole number." in page.split('id="order-errors"', 1)[1]
    assert row_id(app, Stage, name="closed-gate") is None


def test_create_and_bind_stage_of_a_missing_type_is_a_404(app, admin, slug):
    assert admin.get(f"/admin/flows/{slug}/stages/create/teleport").status_code == 404
    assert create_and_bind(admin, slug, "teleport", GATE).status_code == 404
    assert admin.get("/admin/flows/nowhere/stages/create").status_code == 404


# -- The binding dialog, opened in place with htmx --------------------------------------------

HTMX = {"HX-Request": "true"}


def test_the_binding_dialog_opens_in_place_for_htmx_and_is_a_page_without(app, admin, slug):
    binding = bind_stop_stage(app, admin, slug)
    page = text(admin.get(f"/admin/flows/{slug}/stages"))
    link = href(binding_item(page, binding), "Bind existing policy/group/user")
    assert f'hx-get="{link}" hx-target="next .dialog-slot"' in page
    fragment = admin.get(link + "?tab=group", headers=HTMX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    body = text(fragment)
    assert body.lstrip().startswith("<section") and "<html" not in body
    assert "Create Binding" in body and 'name="group"' in body and 'name="csrf_token"' in body
    assert 'hx-target="closest .binding-dialog"' in body
    whole = text(admin.get(link + "?tab=group"))
    assert "<html" in whole and 'class="binding-dialog"' in whole


def test_the_binding_dialog_answers_htmx_with_its_errors_or_a_redirect(app, admin, slug):
    binding = bind_stop_stage(app, admin, slug)
    url = f"/admin/flows/{slug}/stages/{binding}/policies/new?tab=group"
    data = {"group": "", "order": "0", "enabled": "y", "timeout": "30"}
    data["csrf_token"] = token_of(admin)
    refused = admin.post(url, data=data, headers=HTMX)
    assert refused.status_code == 200  # htmx swaps only 2xx answers
    assert "<html" not in text(refused) and "Choose exactly one policy, group or user." in text(
        refused
    )
    data["group"] = row_id(app, Group, name="staff")
    # Opened on its own page (with JavaScript): on to the Stage Bindings tab.
    done = admin.post(url, data=data, headers=HTMX)
    assert done.status_code == 200
    assert done.headers["HX-Redirect"] == f"/admin/flows/{slug}/stages#binding-{binding}"
    # Opened in place on the Stage Bindings tab: that page again, reloaded.
    data["group"], data["negate"] = row_id(app, Group, name="staff"), "y"
    on_tab = {**HTMX, "HX-Current-URL": f"http://localhost/admin/flows/{slug}/stages"}
    done = admin.post(url, data=data, headers=on_tab)
    assert done.status_code == 200 and done.headers["HX-Refresh"] == "true"
    assert "HX-Redirect" not in done.headers
    assert "not group staff" in text(admin.get(f"/admin/flows/{slug}/stages"))
    # An address htmx could never send (an unclosed "[" in its host): on as from its own page.
    data["negate"] = ""
    unreadable = {**HTMX, "HX-Current-URL": "http://[::1/admin/flows"}
    done = admin.post(url, data=data, headers=unreadable)
    assert done.status_code == 200 and "HX-Redirect" in done.headers
    assert len(events_of(app, "admin_policy_bound")) == 3


def an_application(app, slug: str) -> int:
    """An oauth2 application whose provider signs in and out through `slug` and authorizes
    through the shipped consent flow; its provider's id."""
    with app.app_context():
        created = create_application(
            "wiki", "Wiki", "oauth2", {"redirect_uris": ["https://wiki.example.test/cb"]}
        )
        provider = db.session.scalar(
            select(Provider).where(Provider.application_id == created.application.id)
        )
        flow_id = db.session.scalar(select(Flow.id).where(Flow.slug == slug))
        provider.authentication_flow_id = provider.invalidation_flow_id = flow_id
        db.session.commit()
        return provider.id


def test_a_deleted_flow_is_unset_where_an_application_used_it(app, admin, slug):
    """SQLite does not set the provider's flows to NULL by itself, and gives the deleted
    flow's id to the next flow made: the application must not sign in through that one."""
    provider_id = an_application(app, slug)
    assert "the application Wiki" in text(admin.get(f"/admin/flows/{slug}/delete"))
    assert post(admin, f"/admin/flows/{slug}/delete").status_code == 303
    assert post(admin, "/admin/flows/new", FLOW).status_code == 303
    with app.app_context():
        provider = db.session.get(Provider, provider_id)
        assert (provider.authentication_flow_id, provider.invalidation_flow_id) == (None, None)


def test_a_flow_an_application_authorizes_through_is_not_deleted(app, admin, slug):
    provider_id = an_application(app, slug)
    with app.app_context():
        flow_id = db.session.get(Provider, provider_id).authorization_flow_id
        authorization = db.session.get(Flow, flow_id).slug
    response = post(admin, f"/admin/flows/{authorization}/delete")
    assert response.status_code == 409
    assert "while an application authorizes through it" in text(response)
    assert "<li>Wiki</li>" in text(response)
    assert row_id(app, Flow, slug=authorization) == flow_id


def test_removing_a_stage_binding_removes_its_policy_bindings(app, admin, slug):
    binding = bind_stop_stage(app, admin, slug)
    data = {"group": row_id(app, Group, name="staff"), "order": "0", "timeout": "30"}
    assert (
        post(admin, f"/admin/flows/{slug}/stages/{binding}/policies/new", data).status_code == 303
    )
    assert post(admin, f"/admin/flows/{slug}/stages/{binding}/remove").status_code == 303
    assert row_id(app, PolicyBinding, stage_binding_id=binding) is None


def test_importing_a_flow_again_leaves_no_policy_binding_behind(app, slug):
    gated = [*SIGN_IN_STEPS[:2], {**SIGN_IN_STEPS[2], "policies": [{"group": "staff"}]}]
    staff = row_id(app, Group, name="staff")
    with app.app_context():
        make_flow(gated, slug=slug)
        assert row_id(app, PolicyBinding, group_id=staff) is not None
        make_flow(SIGN_IN_STEPS, slug=slug)
    assert row_id(app, PolicyBinding, group_id=staff) is None


YAML_SPECIAL = "- yes: #1 'it''s' \"null\" & *a | > % @ ` {x} [y] =?utf-8?q?x?= 日本 🙂 \u202e"


def test_a_title_with_yaml_syntax_survives_export_and_import(app, admin, slug):
    edited = FLOW | {
        "slug": slug,
        "name": slug,
        "title": YAML_SPECIAL,
        "designation": "authentication",
    }
    assert post(admin, f"/admin/flows/{slug}/edit", edited).status_code == 303
    exported = text(admin.get(f"/admin/flows/{slug}/export.yaml"))
    with app.app_context():
        db.session.execute(sa_update(Flow).where(Flow.slug == slug).values(title="other"))
        db.session.commit()
    confirm = post(admin, f"/admin/flows/{slug}/import/confirm", {"content": exported})
    assert confirm.status_code == 303
    assert row_id(app, Flow, title=YAML_SPECIAL) is not None


@pytest.mark.parametrize("title", ["Welcome\r\nback", "Welcome\x1b[31m", "a\u2028b", "a\x85b"])
def test_a_title_over_two_lines_or_with_control_characters_is_refused(app, admin, title):
    response = post(admin, "/admin/flows/new", FLOW | {"title": title})
    assert response.status_code == 400
    assert "One line only, without control characters." in text(response)
    assert row_id(app, Flow, slug="new-flow") is None


def test_an_imported_title_with_a_line_break_is_a_problem_of_the_file(app, admin, slug):
    exported = yaml.safe_load(text(admin.get(f"/admin/flows/{slug}/export.yaml")))
    exported["flow"]["title"] = "Welcome\r\nback"
    response = upload(admin, slug, yaml.safe_dump(exported))
    assert response.status_code == 400
    assert "flow.title: must be one line, without control characters" in text(response)
