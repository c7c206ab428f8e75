"""The invitation stage: `?itoken=` links with expiry, single use, a flow, fixed data."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.identity.invitations import create_invitation, revoke_invitation
from idp.models import Invitation, User
from tests.conftest import FlowDriver, csrf_token
from tests.factories import make_flow, make_user, unique
from tests.http.test_executor import session_of

SIGNUP_FIELDS = [
    {"key": "username", "label": "Username", "type": "username", "required": True},
    {"key": "password", "label": "Password", "type": "password", "required": True},
]


def invited_flow(**options):
    return make_flow(
        [
            {"define": {"name": unique("invite"), "type": "invitation", "options": options}},
            {
                "define": {
                    "name": unique("invite-prompt"),
                    "type": "prompt",
                    "options": {"fields": SIGNUP_FIELDS},
                }
            },
            {"define": {"name": unique("invite-write"), "type": "user_write"}},
        ],
        designation="enrollment",
    )


def invite(app, **fields) -> tuple[int, str]:
    fields.setdefault("fixed_data", {"email": "guest@example.test", "attributes.team": "blue"})
    with app.app_context():
        invitation, token = create_invitation(**fields)
        db.session.commit()
        return invitation.id, token


def invitation_row(app, invitation_id) -> Invitation:
    with app.app_context():
        return db.session.get(Invitation, invitation_id)


def open_link(flows, slug, token, **kwargs):
    return flows.client.get(f"/flow/{slug}/?itoken={token}", **kwargs)


def follow(flows, response):
    flows.page = response.get_data(as_text=True)
    return response


@pytest.fixture
def slug(app):
    with app.app_context():
        return invited_flow()


def test_an_invitation_lets_the_visitor_in_with_its_fixed_data(app, flows, slug):
    invitation_id, token = invite(app)
    follow(flows, open_link(flows, slug, token))
    assert flows.stage == "invitation" and "Accept invitation" in flows.page
    response = flows.submit(slug, {"itoken": token})
    assert response.status_code == 303 and flows.stage == "prompt"
    (plan,) = session_of(app, flows.client)["plans"].values()
    assert plan["context"]["invitation_id"] == invitation_id
    assert plan["context"]["prompt_data"] == {
        "email": "guest@example.test",
        "attributes.team": "blue",
    }
    assert token not in json.dumps(session_of(app, flows.client))
    flows.submit(slug, {"username": "guest", "password": "a long guest password"})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "guest"))
        assert user.email == "guest@example.test" and user.attributes == {"team": "blue"}
    assert invitation_row(app, invitation_id).used_at is not None


def test_a_single_use_invitation_works_once(app, slug):
    _, token = invite(app)
    first, second = FlowDriver(app.test_client()), FlowDriver(app.test_client())
    follow(first, open_link(first, slug, token))
    follow(second, open_link(second, slug, token))
    first.submit(slug, {"itoken": token})
    assert first.stage == "prompt"
    response = second.submit(slug, {"itoken": token})
    assert response.status_code == 403 and "This invitation was already used." in second.text
    follow(second, open_link(second, slug, token))
    assert "This invitation was already used." in second.text and "Accept" not in second.page


def test_a_multi_use_invitation_works_for_many(app, slug):
    invitation_id, token = invite(app, single_use=False)
    for _ in range(3):
        driver = FlowDriver(app.test_client())
        follow(driver, open_link(driver, slug, token))
        driver.submit(slug, {"itoken": token})
        assert driver.stage == "prompt"
    assert invitation_row(app, invitation_id).used_at is None


def bad_token(app, kind: str) -> str:
    if kind == "expired":
        return invite(app, expires_in=timedelta(seconds=-1))[1]
    if kind == "revoked":
        invitation_id, token = invite(app)
        with app.app_context():
            revoke_invitation(invitation_id)
            db.session.commit()
        return token
    if kind == "for another flow":
        return invite(app, flow_slug="some-other-flow")[1]
    return {"unknown": "made-up-token", "oversized": "x" * 500}[kind]


def csrf_of(flows) -> str:
    """A CSRF token of this browser's session, from any page with a form."""
    return csrf_token(flows.client.get("/flow/default-authentication-flow/").get_data(True))


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("expired", "This invitation has expired."),
        ("revoked", "This invitation was withdrawn."),
        ("for another flow", "This invitation is not for this page."),
        ("unknown", "This invitation link is not valid."),
        ("oversized", "This invitation link is not valid."),
    ],
)
def test_unusable_invitations_are_refused_with_a_reason(app, flows, slug, kind, message):
    token = bad_token(app, kind)
    follow(flows, open_link(flows, slug, token))
    assert message in flows.text and "Accept invitation" not in flows.page
    # Posting the token anyway (a page kept open, a script) is refused as well.
    response = flows.client.post(
        f"/flow/{slug}/", data={"itoken": token, "csrf_token": csrf_of(flows)}
    )
    assert response.status_code in (400, 403)
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(select(Invitation.used_at).where(Invitation.used_at.is_not(None)))
            is None
        )


def test_a_revoked_invitation_posted_directly_is_denied(app, flows, slug):
    invitation_id, token = invite(app)
    follow(flows, open_link(flows, slug, token))
    with app.app_context():
        revoke_invitation(invitation_id)
        db.session.commit()
    response = flows.submit(slug, {"itoken": token})
    assert response.status_code == 403
    assert "This invitation was withdrawn." in flows.text


def test_without_an_invitation_the_flow_says_one_is_needed(app, flows, slug):
    flows.open(slug)
    assert flows.stage == "invitation"
    assert "You need an invitation to continue." in flows.text
    assert "<form" not in flows.page.split('<div id="stage"')[1]
    response = flows.client.post(f"/flow/{slug}/", data={"csrf_token": csrf_of(flows)})
    assert response.status_code == 403
    assert "You need an invitation" in response.get_data(as_text=True)


def test_the_flow_may_go_on_without_an_invitation(app, flows):
    with app.app_context():
        slug = invited_flow(continue_flow_without_invitation=True)
    flows.open(slug)
    assert flows.stage == "prompt"
    flows.submit(slug, {"username": "walkin", "password": "a long walk-in password"})
    with app.app_context():
        assert db.session.scalar(select(User.email).where(User.username == "walkin")) is None


def test_a_bad_link_is_refused_even_when_the_flow_could_go_on_without_one(app, flows):
    with app.app_context():
        slug = invited_flow(continue_flow_without_invitation=True)
    follow(flows, open_link(flows, slug, "made-up-token"))
    assert "This invitation link is not valid." in flows.text


def test_a_link_followed_from_another_site_still_works(app, flows, slug):
    # Webmail links are cross-site: the token rides in the page's form, not in the address.
    _, token = invite(app)
    follow(flows, open_link(flows, slug, token, headers={"Sec-Fetch-Site": "cross-site"}))
    assert flows.stage == "invitation" and f'value="{token}"' in flows.page
    flows.submit(slug, {"itoken": token})
    assert flows.stage == "prompt"


def test_an_invitation_restricted_to_its_flow_works_there(app, flows, slug):
    _, token = invite(app, flow_slug=slug)
    follow(flows, open_link(flows, slug, token))
    flows.submit(slug, {"itoken": token})
    assert flows.stage == "prompt"


def test_htmx_accepts_in_place(app, flows, slug):
    _, token = invite(app)
    follow(flows, open_link(flows, slug, token))
    response = flows.submit(slug, {"itoken": token}, htmx=True)
    assert response.status_code == 200 and flows.stage == "prompt"


def test_a_restart_in_the_same_flow_does_not_spend_a_single_use_invitation(app, flows):
    with app.app_context():
        make_user("taken", email="taken@example.test")
        slug = make_flow(
            [
                {"define": {"name": "restart-invitation", "type": "invitation"}},
                {
                    "define": {
                        "name": "restart-prompt",
                        "type": "prompt",
                        "options": {
                            "fields": [
                                {"key": "username", "type": "username", "required": True},
                                {"key": "email", "type": "email", "required": True},
                            ]
                        },
                    }
                },
                {
                    "define": {"name": "restart-write", "type": "user_write"},
                    "invalid_response_action": "restart",
                },
            ],
            designation="enrollment",
        )
        _, token = create_invitation(fixed_data={})
        db.session.commit()
    flows.page = flows.client.get(f"/flow/{slug}/?itoken={token}").get_data(as_text=True)
    flows.submit(slug, {"itoken": token})
    flows.submit(slug, {"username": "newbie", "email": "taken@example.test"})
    assert "already used by another account" in flows.text
    flows.page = flows.client.get(f"/flow/{slug}/?itoken={token}").get_data(as_text=True)
    flows.submit(slug, {"itoken": token})
    assert flows.stage == "prompt"  # the same plan may pass again
    stranger = FlowDriver(app.test_client())
    stranger.page = stranger.client.get(f"/flow/{slug}/?itoken={token}").get_data(as_text=True)
    assert "This invitation was already used." in stranger.text
