import re

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.identity.invitations import find_invitation
from idp.models import Invitation, User
from tests.conftest import FlowDriver
from tests.factories import make_flow, unique
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
        "fixed_data": {},
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


def invited_signup_flow() -> str:
    """An enrollment flow that checks the invitation, asks a username and a password, and
    writes the user."""
    fields = [
        {"key": "username", "label": "Username", "type": "username", "required": True},
        {"key": "password", "label": "Password", "type": "password", "required": True},
    ]
    return make_flow(
        [
            {"define": {"name": unique("invite"), "type": "invitation"}},
            {"define": {"name": unique("ask"), "type": "prompt", "options": {"fields": fields}}},
            {"define": {"name": unique("write"), "type": "user_write"}},
        ],
        designation="enrollment",
    )


def test_fixed_answers_of_an_invitation_reach_the_new_user(app, admin):
    with app.app_context():
        slug = invited_signup_flow()
    fixed = "email=maya@example.test\r\n\r\n  attributes.team=blue = green  \r\n"
    data = {"flow": slug, "expires": "1d", "fixed_data": fixed}
    response = post(admin, "/admin/invitations/new", data)
    assert response.status_code == 200
    assert "email=maya@example.test" in text(response)
    link = re.search(r'class="invitation-link" type="text" value="([^"]+)"', text(response))[1]
    token = link.split("itoken=")[1].replace("&amp;", "&")
    (event,) = events_of(app, "admin_invitation_created")
    expected = {"email": "maya@example.test", "attributes.team": "blue = green"}
    assert event.detail["after"]["fixed_data"] == expected

    visitor = FlowDriver(app.test_client())
    visitor.page = text(visitor.client.get(f"/flow/{slug}/?itoken={token}"))
    visitor.submit(slug, {"itoken": token})
    assert visitor.stage == "prompt"
    visitor.submit(slug, {"username": "maya", "password": "a long enough password"})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "maya"))
        assert user.email == "maya@example.test" and user.attributes == {"team": "blue = green"}


@pytest.mark.parametrize(
    ("fixed", "message"),
    [
        ("email", "&#39;email&#39; must be key=value"),
        ("Bad Key=x", "&#39;Bad Key=x&#39; must be key=value"),
        ("team=a\nteam=b", "&#39;team&#39; is given twice."),
        ("password=hunter2", "A password cannot be fixed data."),
        ("x=" + "y" * 5000, "Write at most 5000 characters."),
    ],
)
def test_bad_fixed_answers_are_refused_at_their_field(app, admin, fixed, message):
    data = {"flow": ENROLLMENT, "expires": "7d", "fixed_data": fixed}
    response = post(admin, "/admin/invitations/new", data)
    assert response.status_code == 400
    errors = text(response).split('id="fixed_data-errors"', 1)[1].split("</ul>", 1)[0]
    assert message in errors
    assert invitations(app) == []
