"""A Delete form sent again (the browser's back button, a reload) finds no row: 404, and the
audit log keeps the one event of the deletion. DELETED is every admin page that deletes a row,
also driven twice at once on PostgreSQL (tests/postgres/test_delete_race_audit.py)."""

import pytest
from sqlalchemy import select

from idp.admin.applications import bindings as application_bindings
from idp.admin.applications import routes as application_routes
from idp.admin.applications import scope_mappings as scope_mapping_routes
from idp.admin.catalog import rows as catalog_rows
from idp.admin.flows import bindings as flow_bindings
from idp.admin.flows import routes as flow_routes
from idp.admin.users import groups as group_routes
from idp.admin.users import routes as user_routes
from idp.applications.loading import load_application
from idp.applications.manage import bind
from idp.core.extensions import db
from idp.models import (
    Application,
    Flow,
    Group,
    Policy,
    PolicyBinding,
    ScopeMapping,
    Stage,
    StageBinding,
    group_members,
)
from tests.factories import make_group, make_user
from tests.http.admin.conftest import events_of, signed_in, text, token_of
from tests.http.admin.page_forms import sent
from tests.http.admin.test_applications import new_form
from tests.postgres.test_unique_race_audit import CREATED

FLOW = "default-authentication-flow"


def created(app, client, what: str):
    """The row CREATED[what] makes, made with the admin's own page."""
    url, answers, (model, condition), winner, _message = CREATED[what]
    answers = new_form(app) if answers is None else answers
    form = {**sent(text(client.get(url)), url, answers), "csrf_token": token_of(client)}
    assert client.post(url, data=form).status_code == winner
    return db.session.scalar(select(model).where(condition))


def a_stage_binding(app, client) -> str:
    binding = db.session.scalar(
        select(StageBinding).join(Flow).where(Flow.slug == FLOW).order_by(StageBinding.order)
    )
    return f"/admin/flows/{FLOW}/stages/{binding.id}/remove"


def a_flow_binding(app, client) -> str:
    flow = db.session.scalar(select(Flow).where(Flow.slug == FLOW))
    binding = PolicyBinding(flow_id=flow.id, group_id=make_group("staff").id, order=0)
    db.session.add(binding)
    db.session.commit()
    return f"/admin/flows/{FLOW}/bindings/{binding.id}/delete"


def an_application_binding(app, client) -> str:
    slug = created(app, client, "application").slug
    staff = make_group("staff")  # it commits: before the application is loaded with its bindings
    binding = bind(load_application(slug), group=staff)
    db.session.commit()
    return f"/admin/applications/{slug}/bindings/{binding.id}/delete"


def a_membership() -> tuple[int, int]:
    group, user = make_group("staff").id, make_user("alice").id
    db.session.execute(group_members.insert().values(group_id=group, user_id=user))
    db.session.commit()
    return group, user


def a_member_on_the_group_page(app, client) -> str:
    group, user = a_membership()
    return f"/admin/groups/{group}/members/{user}/remove"


def a_group_on_the_users_page(app, client) -> str:
    group, user = a_membership()
    return f"/admin/users/{user}/groups/{group}/remove"


# Each Delete page: what it deletes, how to make one (the address of its Delete page), the
# event the deletion records, and where the page looks the row up (held once found).
DELETED = {
    "stage": (Stage, lambda app, client: f"/admin/stages/{created(app, client, 'stage').id}/delete",
              "admin_stage_deleted", (catalog_rows, "find_or_404")),
    "policy": (Policy,
               lambda app, client: f"/admin/policies/{created(app, client, 'policy').id}/delete",
               "admin_policy_deleted", (catalog_rows, "find_or_404")),
    "group": (Group, lambda app, client: f"/admin/groups/{created(app, client, 'group').id}/delete",
              "admin_group_deleted", (group_routes, "find_or_404")),
    "flow": (Flow, lambda app, client: f"/admin/flows/{created(app, client, 'flow').slug}/delete",
             "admin_flow_deleted", (flow_routes, "flow_or_404")),
    "scope mapping": (
        ScopeMapping,
        lambda app, client:
            f"/admin/scope-mappings/{created(app, client, 'scope mapping').id}/delete",
        "admin_scope_mapping_deleted", (scope_mapping_routes, "find_or_404")),
    "application": (
        Application,
        lambda app, client:
            f"/admin/applications/{created(app, client, 'application').slug}/delete",
        "admin_application_deleted", (application_routes, "application_or_404")),
    "stage binding": (StageBinding, a_stage_binding, "admin_stage_unbound",
                      (flow_bindings, "stage_binding_of")),
    "flow policy binding": (PolicyBinding, a_flow_binding, "admin_policy_unbound",
                            (flow_bindings, "policy_binding_of")),
    "application binding": (PolicyBinding, an_application_binding, "admin_application_unbound",
                            (application_bindings, "binding_of")),
    "group member": (group_members, a_member_on_the_group_page, "admin_group_member_removed",
                     (group_routes, "find_or_404")),
    "user's group": (group_members, a_group_on_the_users_page, "admin_group_member_removed",
                     (user_routes, "find_or_404")),
}  # fmt: skip


def made(app, client, what: str) -> str:
    """Make what the page deletes; the address of its Delete page."""
    with app.app_context():
        return DELETED[what][1](app, client)


@pytest.mark.parametrize("what", list(DELETED))
def test_a_delete_form_sent_again_records_nothing_more(app, admin_name, what):
    _model, _make, action, _lookup = DELETED[what]
    client = signed_in(app, admin_name)
    url = made(app, client, what)
    form = {"csrf_token": token_of(client)}
    assert client.post(url, data=form).status_code == 303
    assert client.post(url, data=form).status_code == 404
    assert len(events_of(app, action)) == 1
