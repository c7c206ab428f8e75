"""Binding a stage safely: the suggested order puts a new step before the sign-in (or sign-out),
steps placed after it are warned about in words, a step with nothing bound to it says that it
applies to everyone before it goes live, and removing a binding is asked about first."""

import re
from html import unescape

import pytest

from idp.admin.flows.guidance import EVERYONE_WORDS
from idp.core.extensions import db
from idp.models import Group, Stage
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_flow, make_group, make_user
from tests.http.admin.conftest import post, text
from tests.http.admin.test_flows import binding_of, href, row_id, stage_bindings

STOP = "Closed for repairs."
LOGIN = "default-authentication-login"
SIGN_IN_STEPS = [
    {"stage": "default-authentication-identification", "order": 10},
    {"stage": "default-authentication-password", "order": 20},
    {"stage": LOGIN, "order": 100},
]
SIGN_IN_WARNING = f"This step comes after the sign-in stage {LOGIN}"


@pytest.fixture
def slug(app) -> str:
    """A sign-in flow, a deny stage `closed` not yet bound, and a user `alice`."""
    with app.app_context():
        make_user("alice")
        db.session.add(Stage(name="closed", type="deny", options={"message": STOP}))
        db.session.commit()
        return make_flow(SIGN_IN_STEPS, slug="gate-test")


def order_field(page: str) -> str:
    return re.search(r'<input[^>]*name="order"[^>]*value="(-?\d+)"', page).group(1)


def bind(app, admin, slug: str, order: str) -> int:
    data = {"stage": row_id(app, Stage, name="closed"), "order": order}
    data |= {"re_evaluate_policies": "y", "policy_engine_mode": "any"}
    response = post(
        admin, f"/admin/flows/{slug}/stages/bind", data | {"invalid_response_action": "retry"}
    )
    assert response.status_code == 303
    return binding_of(app, slug, "closed")


def sign_in(app, username: str, slug: str) -> FlowDriver:
    driver = FlowDriver(app.test_client())
    driver.sign_in(username, PASSWORD, slug=slug)
    return driver


def test_the_suggested_order_puts_a_new_step_before_the_sign_in(app, admin, slug):
    page = text(admin.get(f"/admin/flows/{slug}/stages/bind"))
    assert order_field(page) == "30"
    assert f"before the sign-in stage {LOGIN} (order 100)" in page
    bind(app, admin, slug, order_field(page))
    assert [name for name, _ in stage_bindings(app, slug)][-2:] == ["closed", LOGIN]
    # Bound as suggested, the step stops the sign-in before anyone is signed in.
    driver = sign_in(app, "alice", slug)
    assert STOP in driver.text
    assert driver.client.get("/me").status_code == 302
    assert SIGN_IN_WARNING not in text(admin.get(f"/admin/flows/{slug}/stages"))


def test_create_and_bind_suggests_the_same_order(admin, slug):
    page = text(admin.get(f"/admin/flows/{slug}/stages/create/deny"))
    assert order_field(page) == "30"
    assert f"before the sign-in stage {LOGIN}" in page


@pytest.mark.parametrize(
    ("orders", "suggested"),
    [
        ((10, 20, 100), 30),  # room for a whole step after the last one
        ((10, 20, 25), 22),  # between the last step and the sign-in
        ((10, 20, 21), 20),  # neighbours: a tie, which sorts before the older sign-in
        ((10,), 0),  # the sign-in first: before it
    ],
)
def test_the_suggestion_finds_room_before_the_sign_in(app, admin, orders, suggested):
    *before, login = orders
    names = ["default-authentication-identification", "default-authentication-password"]
    steps = [{"stage": name, "order": order} for name, order in zip(names, before, strict=False)]
    with app.app_context():
        slug = make_flow([*steps, {"stage": LOGIN, "order": login}])
    assert order_field(text(admin.get(f"/admin/flows/{slug}/stages/bind"))) == str(suggested)


def test_a_flow_without_sign_in_or_out_suggests_the_end(app, admin):
    with app.app_context():
        slug = make_flow([{"stage": "default-authentication-identification", "order": 40}])
    page = text(admin.get(f"/admin/flows/{slug}/stages/bind"))
    assert order_field(page) == "50"
    assert "Suggested: after the last step." in page


def test_the_suggestion_comes_before_a_sign_out(admin):
    page = text(admin.get("/admin/flows/default-invalidation-flow/stages/bind"))
    assert order_field(page) == "-10"
    assert "before the sign-out stage default-invalidation-logout (order 0)" in page


def test_a_step_after_the_sign_in_is_warned_about_in_words(app, admin, slug):
    binding = bind(app, admin, slug, "200")
    page = text(admin.get(f"/admin/flows/{slug}/stages"))
    assert "1 step comes after the flow signs the user in or out" in page
    item = re.search(rf'<li id="binding-{binding}".*?</li>', page, re.S).group(0)
    assert "Placed after the sign-in" in item
    assert f"Warning:</strong> {SIGN_IN_WARNING}" in item
    assert "Give it a lower order than 100" in item
    diagram = text(admin.get(f"/admin/flows/{slug}/diagram"))
    assert "Warning: 1 step comes after the sign-in or sign-out" in diagram
    words = diagram.split("<h3>In words</h3>", 1)[1]
    assert f"<li>Warning: {SIGN_IN_WARNING}" in words
    assert '<g class="box misplaced">' in diagram
    # It is right: the sign-in is done before the step runs.
    driver = sign_in(app, "alice", slug)
    assert STOP in driver.text
    assert driver.client.get("/me").status_code == 200


def test_a_step_after_the_sign_out_is_warned_about(app, admin):
    with app.app_context():
        db.session.add(Stage(name="closed", type="deny", options={"message": STOP}))
        db.session.commit()
    bind(app, admin, "default-invalidation-flow", "10")
    page = text(admin.get("/admin/flows/default-invalidation-flow/stages"))
    assert "Placed after the sign-out" in page
    assert "This step comes after the sign-out stage default-invalidation-logout" in page
    assert "no user is known any more" in text(
        admin.get("/admin/flows/default-invalidation-flow/diagram")
    )


def test_the_shipped_flows_have_no_misplaced_steps(admin):
    for flow in ("default-authentication-flow", "default-enrollment-flow", "initial-setup"):
        assert "Warning:" not in text(admin.get(f"/admin/flows/{flow}/stages")), flow
        assert "Warning:" not in text(admin.get(f"/admin/flows/{flow}/diagram")), flow


def test_a_step_with_nothing_bound_says_it_applies_to_everyone_before_it_goes_live(
    app, admin, slug
):
    for url in (f"/admin/flows/{slug}/stages/bind", f"/admin/flows/{slug}/stages/create/deny"):
        assert str(EVERYONE_WORDS) in text(admin.get(url)), url
    binding = bind(app, admin, slug, "30")
    page = text(admin.get(f"/admin/flows/{slug}/stages"))
    item = re.search(rf'<li id="binding-{binding}".*?</li>', page, re.S).group(0)
    assert "Always runs: applies to everyone" in item
    assert str(EVERYONE_WORDS) in text(admin.get(f"/admin/flows/{slug}/stages/{binding}/edit"))
    # Once a group is bound, neither the list nor the edit page says so any more.
    with app.app_context():
        make_group("staff")
    data = {"group": row_id(app, Group, name="staff"), "order": "0", "enabled": "y"}
    url = f"/admin/flows/{slug}/stages/{binding}/policies/new?tab=group"
    assert post(admin, url, data | {"timeout": "30"}).status_code == 303
    item = re.search(
        rf'<li id="binding-{binding}".*?</li>', text(admin.get(f"/admin/flows/{slug}/stages")), re.S
    ).group(0)
    assert "applies to everyone" not in item
    assert str(EVERYONE_WORDS) not in text(admin.get(f"/admin/flows/{slug}/stages/{binding}/edit"))


def test_removing_a_stage_binding_asks_first(app, admin, slug):
    binding = bind(app, admin, slug, "30")
    page = text(admin.get(f"/admin/flows/{slug}/stages"))
    assert f'action="/admin/flows/{slug}/stages/{binding}/remove"' not in page
    item = re.search(rf'<li id="binding-{binding}".*?</li>', page, re.S).group(0)
    question = admin.get(href(item, "Remove…"))
    assert question.status_code == 200
    asked = text(question)
    assert "Remove the stage closed from this flow?" in asked
    assert "The stage itself stays" in asked
    assert 'name="csrf_token"' in asked
    assert f'<form method="post" action="/admin/flows/{slug}/stages/{binding}/remove"' in asked
    assert "closed" in [name for name, _ in stage_bindings(app, slug)]  # asking changed nothing
    assert post(admin, f"/admin/flows/{slug}/stages/{binding}/remove").status_code == 303
    assert "closed" not in [name for name, _ in stage_bindings(app, slug)]


def test_the_question_says_when_the_sign_in_step_itself_is_removed(app, admin, slug):
    login = binding_of(app, slug, LOGIN)
    asked = unescape(text(admin.get(f"/admin/flows/{slug}/stages/{login}/remove")))
    assert "This is the flow's sign-in step: without it, there is no sign-in." in asked


def test_htmx_gets_the_question_alone_to_open_in_place(app, admin, slug):
    binding = bind(app, admin, slug, "30")
    response = admin.get(
        f"/admin/flows/{slug}/stages/{binding}/remove", headers={"HX-Request": "true"}
    )
    fragment = text(response)
    assert fragment.lstrip().startswith('<section class="binding-dialog confirm-dialog"')
    assert "<html" not in fragment and "Remove the binding" in fragment
    assert "HX-Request" in response.headers["Vary"]


def test_removing_a_policy_binding_asks_first(app, admin, slug):
    with app.app_context():
        make_group("staff")
    data = {"group": row_id(app, Group, name="staff"), "order": "0", "enabled": "y"}
    url = f"/admin/flows/{slug}/policies/new?tab=group"
    assert post(admin, url, data | {"timeout": "30"}).status_code == 303
    page = text(admin.get(f"/admin/flows/{slug}/policies"))
    asked = unescape(text(admin.get(href(page, "Delete…"))))
    assert "Remove the binding of group staff?" in asked
    assert "The group staff stops deciding who may use the flow." in asked
    assert "anyone the flow's settings allow may use the flow" in asked
    action = re.search(r'<form method="post" action="([^"]+)"', asked).group(1)
    assert "<td>group staff</td>" in text(admin.get(f"/admin/flows/{slug}/policies"))
    assert post(admin, action).status_code == 303
    page = text(admin.get(f"/admin/flows/{slug}/policies"))
    assert "The group staff binding was removed." in page
    assert "<td>group staff</td>" not in page


def test_removing_an_application_binding_asks_first(app, admin, runner):
    with app.app_context():
        make_group("staff")
    created = runner.invoke(
        args=[
            "apps",
            "create",
            "wiki",
            "--name",
            "Wiki",
            "--proxy",
            "--external-host",
            "https://wiki.example.test",
        ]
    )
    assert created.exit_code == 0, created.output
    assert runner.invoke(args=["apps", "bind", "wiki", "--group", "staff"]).exit_code == 0
    page = text(admin.get("/admin/applications/wiki/bindings"))
    assert "<td>group staff</td>" in page
    asked = text(admin.get(href(page, "Delete…")))
    assert "The group staff stops deciding who may use the application Wiki." in asked
    assert "every signed-in user may use the application" in asked
    action = re.search(r'<form method="post" action="([^"]+)"', asked).group(1)
    assert post(admin, action).status_code == 303
    page = text(admin.get("/admin/applications/wiki/bindings"))
    assert "The group staff binding was removed." in page
    assert "<td>group staff</td>" not in page


def test_asking_about_a_binding_of_another_flow_is_not_found(app, admin, slug):
    with app.app_context():
        other = make_flow([{"stage": LOGIN}])
    login = binding_of(app, slug, LOGIN)
    assert admin.get(f"/admin/flows/{other}/stages/{login}/remove").status_code == 404
