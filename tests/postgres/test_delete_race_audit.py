"""Two deletes of one row at once (a double click on Delete in the admin), on PostgreSQL (they
pass on SQLite too): both requests find the row, only one deletes it. That one records the
audit event; the other is told it was deleted in the meantime (404) and records nothing, its
writes undone (a Delete form sent again later: tests/http/admin/test_delete_replay.py). A
member removed from a group is such a row too; an invitation revoked twice records once."""

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from tests.conftest import POSTGRES_URL
from tests.factories import make_user
from tests.http.admin.conftest import events_of, text, token_of
from tests.http.admin.test_delete_replay import DELETED, made
from tests.postgres.test_replay_audit_postgres import held_together
from tests.postgres.test_unique_race_audit import browsers, post_together, rows, statuses

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not POSTGRES_URL, reason="IDP_TEST_DATABASE_URL is not set"),
    pytest.mark.usefixtures("many_postgres_connections"),
]

TWICE = 2


@pytest.fixture
def app_settings():
    return {"ENVIRON": {"IDP_DATABASE_POOL_SIZE": str(TWICE + 2)}}


@pytest.fixture
def root(app):
    with app.app_context():
        make_user(username="root", superuser=True)


@pytest.mark.parametrize("what", list(DELETED))
def test_a_double_click_on_delete_records_one_event(app, root, monkeypatch, what):
    model, _url, action, (module, lookup) = DELETED[what]
    clients = browsers(app, TWICE)
    url = made(app, clients[0], what)
    before = rows(app, model)
    held_together(monkeypatch, module, lookup, parties=TWICE, after=True)

    responses = post_together([(client, url, {}, None) for client in clients])

    assert sorted(statuses(responses)) == [303, 404], statuses(responses)
    refused = next(response for response in responses if response.status_code == 404)
    assert "deleted in the meantime" in text(refused)
    assert rows(app, model) == before - 1
    assert len(events_of(app, action)) == 1


def test_a_double_click_on_revoke_records_one_event(app, root, monkeypatch):
    """Revoking is an UPDATE of a row that stays: the second waits for the first, then finds
    it revoked, and says so (as a Revoke sent again does) without a second event."""
    from idp.admin.invitations import routes as invitation_routes
    from idp.models import Invitation

    clients = browsers(app, TWICE)
    form = {"flow": "default-enrollment-flow", "expires": "7d", "csrf_token": token_of(clients[0])}
    assert clients[0].post("/admin/invitations/new", data=form).status_code == 200
    with app.app_context():
        (invitation,) = db.session.scalars(select(Invitation)).all()
    url = f"/admin/invitations/{invitation.id}/revoke"
    held_together(monkeypatch, invitation_routes, "find_or_404", parties=TWICE, after=True)

    responses = post_together([(client, url, {}, None) for client in clients])

    assert statuses(responses) == [303, 303]
    pages = [text(client.get("/admin/invitations")) for client in clients]
    assert sorted("This invitation was revoked before." in page for page in pages) == [False, True]
    assert len(events_of(app, "admin_invitation_revoked")) == 1
