"""`idp invitations create | list | revoke`."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.identity.invitations import token_hash
from idp.models import Flow, Invitation
from idp.models.types import utcnow
from tests.factories import make_flow, unique

LINK = re.compile(r"^(http\S+/flow/([^/]+)/\?itoken=(\S+))$", re.M)


def invitation_flow(slug=None):
    return make_flow(
        [
            {"define": {"name": unique("cli-invite"), "type": "invitation"}},
            {
                "define": {
                    "name": unique("cli-invite-prompt"),
                    "type": "prompt",
                    "options": {"fields": [{"key": "username", "type": "username"}]},
                }
            },
        ],
        slug=slug,
        designation="enrollment",
    )


def only_invitation(app) -> Invitation:
    with app.app_context():
        (invitation,) = db.session.scalars(select(Invitation))
        return invitation


def test_create_prints_a_working_link_once_and_stores_only_its_hash(app, runner, flows):
    with app.app_context():
        slug = invitation_flow()
    result = runner.invoke(
        args=[
            "invitations", "create", "--flow", slug, "--expires", "2d", "--name", "for Ann",
            "--data", "email=ann@example.test", "--data", "attributes.team=blue=green",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    link, linked_slug, token = LINK.search(result.output).groups()
    assert link.startswith(f"http://127.0.0.1:5000/flow/{slug}/?itoken=") and linked_slug == slug
    invitation = only_invitation(app)
    assert invitation.token_hash == token_hash(token) and token not in str(invitation.fixed_data)
    assert invitation.fixed_data == {"email": "ann@example.test", "attributes.team": "blue=green"}
    assert invitation.name == "for Ann" and invitation.flow_slug == slug and invitation.single_use
    assert abs(invitation.expires_at - (utcnow() + timedelta(days=2))) < timedelta(minutes=1)
    assert "single use" in result.output and "Warning" not in result.output

    flows.page = flows.client.get(link.removeprefix("http://127.0.0.1:5000")).get_data(True)
    flows.submit(slug, {"itoken": token})
    assert flows.stage == "prompt"


def test_create_uses_the_base_url_and_the_first_enrollment_flow(app, runner):
    app.config["BASE_URL"] = "https://id.example.test"
    with app.app_context():
        slug = invitation_flow(slug="aaaa-first-enrollment")
    result = runner.invoke(args=["invitations", "create", "--multi-use", "--expires", "never"])
    assert result.exit_code == 0, result.output
    link, linked_slug, _ = LINK.search(result.output).groups()
    assert link.startswith("https://id.example.test/flow/") and linked_slug == slug
    invitation = only_invitation(app)
    assert invitation.flow_slug is None and not invitation.single_use
    assert invitation.expires_at is None


def test_create_warns_when_the_flow_has_no_invitation_stage(app, runner):
    with app.app_context():
        slug = make_flow([{"stage": "default-authentication-identification"}])
    result = runner.invoke(args=["invitations", "create", "--flow", slug])
    assert result.exit_code == 0
    assert "has no invitation stage" in result.stderr


def test_list_shows_each_invitation_and_its_state(app, runner):
    with app.app_context():
        slug = invitation_flow()
    runner.invoke(args=["invitations", "create", "--flow", slug, "--name", "alpha"])
    runner.invoke(args=["invitations", "create", "--flow", slug, "--name", "beta"])
    assert runner.invoke(args=["invitations", "revoke", "2"]).exit_code == 0
    lines = runner.invoke(args=["invitations", "list"]).output.splitlines()
    assert len(lines) == 2
    assert "active" in lines[0] and "alpha" in lines[0] and slug in lines[0]
    assert "revoked" in lines[1] and "beta" in lines[1]
    assert "itoken" not in "".join(lines)


def test_revoke_stops_the_link(app, runner, flows):
    with app.app_context():
        slug = invitation_flow()
    created = runner.invoke(args=["invitations", "create", "--flow", slug]).output
    link = LINK.search(created).group(1)
    result = runner.invoke(args=["invitations", "revoke", "1"])
    assert result.exit_code == 0 and "Revoked invitation 1" in result.output
    page = flows.client.get(link.removeprefix("http://127.0.0.1:5000")).get_data(True)
    assert "This invitation was withdrawn." in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["create", "--flow", "no-such-flow"], "no flow with the slug 'no-such-flow'"),
        (["create", "--data", "email"], "must be key=value"),
        (["create", "--data", "Bad Key=x"], "must be key=value"),
        (["create", "--data", "a=1", "--data", "a=2"], "--data 'a' is given twice"),
        (["create", "--data", "password=hunter2"], "--data a password cannot be fixed data"),
        (["create", "--expires", "soon"], "--expires: 'soon' is not a duration"),
        (["create", "--expires", "0d"], "--expires must be longer than nothing"),
        (["create", "--name", "n" * 201], "a name is at most 200 characters"),
        (["revoke", "abc"], "no invitation with the id 'abc'"),
        (["revoke", "99"], "no invitation with the id '99'"),
        (["revoke", "9" * 30], "no invitation with the id"),
        (["create", "--expires", "99999999999d"], "longer than 100 years"),
        (["create", "--expires", "2000000w"], "longer than 100 years"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(app, runner, args, message):
    with app.app_context():
        invitation_flow(slug="aaaa-enrollment")
    result = runner.invoke(args=["invitations", *args])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"Error: {result.stderr.strip()[7:]}"]
    assert message in result.stderr and "Traceback" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Invitation)) == 0


@pytest.mark.parametrize("digit", ["\u0661", "\u00b2"])  # Arabic-Indic one, superscript two
def test_a_digit_that_is_not_ascii_names_no_invitation(app, runner, digit):
    """int() reads the Arabic-Indic one as 1: it must not revoke invitation 1."""
    with app.app_context():
        slug = invitation_flow()
    runner.invoke(args=["invitations", "create", "--flow", slug])
    result = runner.invoke(args=["invitations", "revoke", digit])
    assert result.exit_code == 2 and "no invitation with the id" in result.stderr
    assert only_invitation(app).revoked_at is None


def test_revoking_twice_is_an_error(app, runner):
    with app.app_context():
        slug = invitation_flow()
    runner.invoke(args=["invitations", "create", "--flow", slug])
    assert runner.invoke(args=["invitations", "revoke", "1"]).exit_code == 0
    result = runner.invoke(args=["invitations", "revoke", "1"])
    assert result.exit_code == 2 and "already revoked" in result.stderr


def test_create_without_any_enrollment_flow_says_to_name_one(app, runner):
    with app.app_context():
        for flow in db.session.scalars(select(Flow).where(Flow.designation == "enrollment")):
            flow.designation = "stage_configuration"
        db.session.commit()
    result = runner.invoke(args=["invitations", "create"])
    assert result.exit_code == 2
    assert "there is no enrollment flow to link to; name one with --flow SLUG" in result.stderr
