import pytest
from markupsafe import escape
from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Application, Event, Policy, PolicyBinding
from idp.policies.registry import POLICY_TYPES
from tests.factories import make_flow, make_group, make_user
from tests.http.admin.conftest import events_of, post, text
from tests.http.admin.settings_data import default_form_data


def policy_named(app, name: str) -> Policy | None:
    with app.app_context():
        return db.session.scalar(select(Policy).where(Policy.name == name))


def make_policy(app, name: str, type_name: str = "dummy", options=None) -> int:
    with app.app_context():
        policy = Policy(name=name, type=type_name, options=options or {})
        db.session.add(policy)
        db.session.commit()
        return policy.id


def event_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(db.func.count()).select_from(Event))


def test_the_first_step_lists_every_policy_type(admin):
    page = text(admin.get("/admin/policies/new"))
    for policy_type in POLICY_TYPES.values():
        assert f'href="/admin/policies/new/{policy_type.name}"' in page
        assert escape(policy_type.label) in page
        assert escape(policy_type.description) in page


@pytest.mark.parametrize("type_name", sorted(POLICY_TYPES))
def test_every_policy_type_is_created_in_two_steps_with_its_defaults(app, admin, type_name):
    policy_type = POLICY_TYPES[type_name]
    assert admin.get(f"/admin/policies/new/{type_name}").status_code == 200
    data = {"name": f"new {type_name}", **default_form_data(app, policy_type)}
    response = post(admin, f"/admin/policies/new/{type_name}", data)
    assert response.status_code == 303, text(response)
    assert response.headers["Location"] == "/admin/policies"
    policy = policy_named(app, f"new {type_name}")
    assert policy.type == type_name
    assert policy_type.parse_options(policy.options) == policy_type.Options()
    (event,) = events_of(app, "admin_policy_created")
    assert event.detail["after"]["type"] == type_name
    assert event.detail["target"] == {"kind": "policy", "id": policy.id, "name": policy.name}


def test_the_expression_form_says_what_an_expression_may_use(admin):
    page = text(admin.get("/admin/policies/new/expression"))
    for name in ("plan", "has_authenticator", "regex_match_start", "deny("):
        assert name in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Enter a name."),
        ({"name": "taken"}, "A policy with this name exists already."),
    ],
)
def test_a_bad_policy_name_is_refused(app, admin, data, message):
    make_policy(app, "taken")
    defaults = default_form_data(app, POLICY_TYPES["dummy"])
    response = post(admin, "/admin/policies/new/dummy", {**defaults, **data})
    assert response.status_code == 400
    assert message in text(response)
    assert events_of(app, "admin_policy_created") == []


def test_bad_policy_options_are_shown_next_to_their_field(app, admin):
    data = {"name": "broken", "option-expression": "1 +", "option-message": ""}
    response = post(admin, "/admin/policies/new/expression", data)
    assert response.status_code == 400
    errors = text(response).split('id="option-expression-errors"', 1)[1].split("</ul>", 1)[0]
    assert "is not a valid expression" in errors
    assert policy_named(app, "broken") is None


def test_an_unknown_policy_type_is_not_found(admin):
    assert admin.get("/admin/policies/new/astrology").status_code == 404
    assert post(admin, "/admin/policies/new/astrology", {"name": "x"}).status_code == 404


def test_a_policy_of_a_type_not_installed_says_so(app, admin):
    policy_id = make_policy(app, "old", "astrology")
    assert "type not installed" in text(admin.get("/admin/policies"))
    assert "is not installed" in text(admin.get(f"/admin/policies/{policy_id}"))
    assert post(admin, f"/admin/policies/{policy_id}", {"name": "new"}).status_code == 409
    tested = post(admin, f"/admin/policies/{policy_id}/test", {"username": ""})
    assert "is not installed" in text(tested)


def test_a_policy_is_edited_and_the_change_recorded(app, admin):
    policy_id = make_policy(app, "flag", options={"result": True})
    data = {"name": "flag", "option-message": "Nope.", "option-wait_seconds": "0"}
    response = post(admin, f"/admin/policies/{policy_id}", data)
    assert response.status_code == 303
    assert policy_named(app, "flag").options == {
        "result": False,
        "message": "Nope.",
        "raise_error": False,
        "wait_seconds": 0,
    }
    (event,) = events_of(app, "admin_policy_edited")
    assert event.detail["before"] == {
        "options.message": None,
        "options.raise_error": None,
        "options.result": True,
        "options.wait_seconds": None,
    }
    assert event.detail["after"]["options.result"] is False


def bound_flow(app) -> str:
    with app.app_context():
        make_policy(app, "gate", options={"result": True})
        return make_flow(
            [{"define": {"name": "gated-deny", "type": "deny"}, "policies": [{"policy": "gate"}]}],
            flow_policies=[{"policy": "gate"}],
        )


def test_the_list_says_where_each_policy_is_bound(app, admin):
    slug = bound_flow(app)
    row = text(admin.get("/admin/policies")).split(">gate</a>", 1)[1].split("</tr>", 1)[0]
    assert f"who may use the flow {slug}" in row
    assert f"the stage gated-deny in {slug}" in row


def test_a_policy_named_in_a_stages_settings_is_in_use(app, admin):
    policy_id = make_policy(app, "strong", "password")
    with app.app_context():
        make_flow(
            [
                {
                    "define": {
                        "name": "new-password",
                        "type": "prompt",
                        "options": {"validation_policies": ["strong"]},
                    }
                }
            ],
            policies=[{"name": "strong", "type": "password", "options": {}}],
        )
    response = post(admin, f"/admin/policies/{policy_id}/delete")
    assert response.status_code == 409
    assert "the settings of the stage new-password" in text(response)


def test_a_bound_policy_is_not_deleted_and_says_where(app, admin):
    slug = bound_flow(app)
    policy_id = policy_named(app, "gate").id
    page = text(admin.get(f"/admin/policies/{policy_id}/delete"))
    assert f"who may use the flow {slug}" in page
    assert "Delete the policy</button>" not in page
    response = post(admin, f"/admin/policies/{policy_id}/delete")
    assert response.status_code == 409
    assert f"the stage gated-deny in {slug}" in text(response)
    assert policy_named(app, "gate") is not None


def test_a_policy_that_decides_who_may_use_an_application_is_listed_and_kept(app, admin):
    policy_id = make_policy(app, "office-hours", options={"result": True})
    with app.app_context():
        wiki = Application(slug="wiki", name="The Wiki", policy_bindings=[])
        wiki.policy_bindings.append(PolicyBinding(policy_id=policy_id))
        db.session.add(wiki)
        db.session.commit()
    row = text(admin.get("/admin/policies")).split(">office-hours</a>", 1)[1].split("</tr>")[0]
    assert "who may use the application The Wiki" in row
    response = post(admin, f"/admin/policies/{policy_id}/delete")
    assert response.status_code == 409
    assert "who may use the application The Wiki" in text(response)
    assert policy_named(app, "office-hours") is not None


def test_an_unbound_policy_is_deleted(app, admin):
    policy_id = make_policy(app, "spare", options={"result": False})
    response = post(admin, f"/admin/policies/{policy_id}/delete")
    assert response.status_code == 303
    assert policy_named(app, "spare") is None
    (event,) = events_of(app, "admin_policy_deleted")
    assert event.detail["before"] == {"name": "spare", "type": "dummy", "options.result": False}


def run_test(app, admin, options, type_name="expression", **data):
    policy_id = make_policy(app, "tried", type_name, options)
    before = event_count(app)
    response = post(admin, f"/admin/policies/{policy_id}/test", data)
    assert event_count(app) == before
    assert policy_named(app, "tried").options == options
    return response


def test_the_test_page_shows_a_pass(app, admin):
    with app.app_context():
        make_user(username="bob", groups=[make_group("admins")])
    options = {"expression": "'admins' in user.groups and request.ip == '10.0.0.1'"}
    response = run_test(app, admin, options, username="bob", ip="10.0.0.1")
    assert response.status_code == 200
    assert "<strong>Passing</strong>" in text(response)


def test_the_test_page_shows_a_failure_with_its_message(app, admin):
    options = {"expression": "context.get('uid') == 'carol'", "message": "Only Carol."}
    response = run_test(app, admin, options, username="", context="uid: dave")
    assert "<strong>Failing</strong>" in text(response)
    assert "<li>Only Carol.</li>" in text(response)
    passing = post(admin, response.request.path, {"context": '{"uid": "carol"}'})
    assert "<strong>Passing</strong>" in text(passing)


def test_the_test_page_shows_an_error(app, admin):
    response = run_test(app, admin, {"expression": "user.nickname == 'x'"})
    assert response.status_code == 200
    assert "<strong>Error:</strong>" in text(response)
    assert "nickname" in text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "nobody"}, "There is no user with this username."),
        ({"ip": "999.1.1.1"}, "Enter an IPv4 or IPv6 address."),
        ({"context": "[1, 2]"}, "Write a mapping of names to values"),
        ({"context": "a: [b"}, "This is neither valid YAML nor JSON."),
    ],
)
def test_the_test_page_refuses_bad_input(app, admin, data, message):
    response = run_test(app, admin, {"expression": "true"}, **data)
    assert response.status_code == 400
    assert message in text(response)
    assert "<strong>Passing</strong>" not in text(response)


def test_the_test_page_needs_a_policy_that_exists(admin):
    assert admin.get("/admin/policies/999/test").status_code == 404
