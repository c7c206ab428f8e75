import re

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.invitations import find_invitation
from idp.models import Invitation
from tests.http.admin.conftest import events_of, post, text

ENROLLMENT = "default-enrollment-flow"


def invitations(app) -> list[Invitation]:
    with app.app_context():
        return list(db.session.scalars(select(Invitation)))


def test_the_new_invitation_form_offers_enrollment_flows_first(admin):
    page = text(admin.get("/admin/invitations/new"))
    options = re.findall(r'<option[^>]*value="([^"]+)"', page)
    assert options[0] == ENROLLMENT
    assert "default-authentication-flow" in options
    assert 'value="7d"' in page


def test_an_invitation_link_is_shown_once(app, admin):
    response = post(
        admin,
        "/admin/invitations/new",
        {"name": "For Maya", "flow": ENROLLMENT, "expires": "2d", "multi_use": "y"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    link = re.search(r'class="invitation-link" type="text" value="([^"]+)"', text(response))[1]
    token = link.split("itoken=")[1]
    assert link.startswith(f"http://127.0.0.1:5000/flow/{ENROLLMENT}/?itoken=")
    with app.app_context():
        invitation = find_invitation(token)
        assert invitation.name == "For Maya" and not invitation.single_use
    listing = text(admin.get("/admin/invitations"))
    assert "For Maya" in listing and token not in listing
    (event,) = events_of(app, "admin_invitation_created")
    assert event.detail["after"] == {
        "name": "For Maya",
        "flow": ENROLLMENT,
        "expires": "2d",
        "single_use": False,
    }
    assert token not in str(event.detail)


def test_an_invitation_that_never_expires(app, admin):
    post(admin, "/admin/invitations/new", {"flow": ENROLLMENT, "expires": "never"})
    (invitation,) = invitations(app)
    assert invitation.expires_at is None and invitation.single_use


def test_a_flow_without_an_invitation_stage_is_flagged(admin):
    response = post(
        admin, "/admin/invitations/new", {"flow": "default-authentication-flow", "expires": "1h"}
    )
    assert "has no invitation stage" in text(response)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"flow": "no-such-flow", "expires": "7d"}, "Not a valid choice"),
        ({"flow": ENROLLMENT, "expires": "soon"}, "Write a duration like 30m"),
        ({"flow": ENROLLMENT, "expires": ""}, "Enter a time, or never."),
        ({"flow": ENROLLMENT, "expires": "0m"}, "Choose a time from a minute to a year"),
        ({"flow": ENROLLMENT, "expires": "99999999999999w"}, "Write a duration like 30m"),
        ({"flow": ENROLLMENT, "expires": "60w"}, "Choose a time from a minute to a year"),
        ({"flow": ENROLLMENT, "expires": "7d", "name": "n" * 201}, "at most 200 characters"),
    ],
)
def test_a_bad_invitation_is_refused(app, admin, fields, message):
    response = post(admin, "/admin/invitations/new", fields)
    assert response.status_code == 400
    assert message in text(response)
    assert invitations(app) == []


def test_an_invitation_is_revoked(app, admin):
    post(admin, "/admin/invitations/new", {"flow": ENROLLMENT, "expires": "7d"})
    (invitation,) = invitations(app)
    path = f"/admin/invitations/{invitation.id}/revoke"
    assert post(admin, path).status_code == 303
    (invitation,) = invitations(app)
    assert invitation.revoked_at is not None
    listing = text(admin.get("/admin/invitations"))
    assert '<td class="state">revoked</td>' in listing and path not in listing
    assert post(admin, path).status_code == 303  # twice: said, not an error
    (event,) = events_of(app, "admin_invitation_revoked")
    assert (event.detail["before"], event.detail["after"]) == (
        {"state": "active"},
        {"state": "revoked"},
    )


def test_revoking_a_missing_invitation_is_a_404(admin):
    assert post(admin, "/admin/invitations/999999/revoke").status_code == 404
