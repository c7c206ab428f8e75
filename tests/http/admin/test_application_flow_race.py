"""An administrator switches an application to a flow while another deletes that flow.

Whichever commits first wins, and the other is told so; nothing is half written, and no
application is left pointing at a flow that is gone. The interleaving is made: the second
request runs to its commit in another thread while the first stands between its checks and
its writes. On SQLite and, with IDP_TEST_DATABASE_URL, on PostgreSQL."""

import threading

import pytest
from sqlalchemy import select

from idp.admin.applications import routes as application_routes
from idp.admin.flows import routes as flow_routes
from idp.core.extensions import db
from idp.models import Flow, Provider
from tests.factories import make_flow
from tests.http.admin.conftest import post, signed_in, text
from tests.http.admin.test_applications import create_grafana, new_form

FIELD_DESIGNATIONS = [
    ("authorization_flow", "authorization"),
    ("authentication_flow", "authentication"),
    ("invalidation_flow", "invalidation"),
]


def provider_flows(app) -> dict:
    with app.app_context():
        provider = db.session.scalar(select(Provider))
        return {
            "authorization_flow": provider.authorization_flow_id,
            "authentication_flow": provider.authentication_flow_id,
            "invalidation_flow": provider.invalidation_flow_id,
        }


def flow_id(app, slug: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(Flow.id).where(Flow.slug == slug))


def spare_flow(app, designation: str) -> tuple[str, int]:
    with app.app_context():
        slug = make_flow([], slug=f"spare-{designation}", designation=designation)
    return slug, flow_id(app, slug)


class Results(list):
    thread: threading.Thread | None = None

    def joined(self) -> "Results":
        if self.thread is not None:
            self.thread.join(timeout=60)
        return self


def run_first(monkeypatch, module, name, action, after=False, wait: float = 60) -> Results:
    """Run `action` in another thread at the first call of module.name (before it, or with
    `after`, once it returned), and wait for it to end (`wait` seconds at most: it may be
    waiting for what this request holds); its result goes into the list returned."""
    real = getattr(module, name)
    results = Results()

    def interleaved(*args, **kwargs):
        result = real(*args, **kwargs) if after else None
        if results.thread is None:
            results.thread = threading.Thread(target=lambda: results.append(action()))
            results.thread.start()
            results.thread.join(timeout=wait)
        return result if after else real(*args, **kwargs)

    monkeypatch.setattr(module, name, interleaved)
    return results


@pytest.mark.parametrize(("field", "designation"), FIELD_DESIGNATIONS)
def test_switching_an_application_to_a_flow_deleted_meanwhile_changes_nothing(
    app, admin, admin_name, monkeypatch, field, designation
):
    create_grafana(app, admin)
    slug, spare_id = spare_flow(app, designation)
    before = provider_flows(app)
    other_admin = signed_in(app, admin_name)
    deletions = run_first(
        monkeypatch,
        application_routes,
        "_save",
        lambda: post(other_admin, f"/admin/flows/{slug}/delete").status_code,
    )

    form = new_form(app, name="Grafana Prod", **{field: str(spare_id)})
    response = post(admin, "/admin/applications/grafana/edit", form)

    assert deletions == [303]
    assert response.status_code == 400, text(response)
    assert "was deleted meanwhile" in text(response)
    assert flow_id(app, slug) is None
    assert provider_flows(app) == before
    assert "Grafana Prod" not in text(admin.get("/admin/applications/grafana"))


@pytest.mark.parametrize(("field", "designation"), FIELD_DESIGNATIONS)
def test_a_flow_deleted_while_an_application_switches_to_it_is_not_left_named(
    app, admin, admin_name, monkeypatch, field, designation
):
    """The deletion has checked that no application authorizes through the flow when the
    switch to it is sent: the switch waits for the deletion (a second at most here, then the
    deletion goes on), and is then refused, rather than leave the application naming a flow
    that is gone."""
    create_grafana(app, admin)
    slug, spare_id = spare_flow(app, designation)
    before = provider_flows(app)
    other_admin = signed_in(app, admin_name)
    form = new_form(app, name="Grafana Prod", **{field: str(spare_id)})
    edits = run_first(
        monkeypatch,
        flow_routes,
        "authorizing",
        lambda: post(other_admin, "/admin/applications/grafana/edit", form),
        after=True,
        wait=1,
    )

    response = post(admin, f"/admin/flows/{slug}/delete")
    edits.joined()

    assert response.status_code == 303, text(response)
    assert flow_id(app, slug) is None
    (edit,) = edits
    assert edit.status_code == 400, text(edit)
    assert "was deleted meanwhile" in text(edit)
    assert provider_flows(app) == before


def test_creating_an_application_with_a_flow_deleted_meanwhile_creates_nothing(
    app, admin, admin_name, monkeypatch
):
    slug, spare_id = spare_flow(app, "authorization")
    other_admin = signed_in(app, admin_name)
    deletions = run_first(
        monkeypatch,
        application_routes,
        "_create",
        lambda: post(other_admin, f"/admin/flows/{slug}/delete").status_code,
    )

    response = create_grafana(app, admin, authorization_flow=str(spare_id))

    assert deletions == [303]
    assert response.status_code == 400, text(response)
    assert "was deleted meanwhile" in text(response)
    with app.app_context():
        assert db.session.scalar(select(Provider)) is None
