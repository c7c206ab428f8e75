"""An authentik blueprint never imports a flow more open than it is in authentik: when the
reader cannot map what gates a flow (an invitation step, a stage's condition), that flow is
left out, named on stderr, and a visitor cannot use it."""

from textwrap import dedent

from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import User

INVITATION_ONLY = dedent("""\
    version: 1
    entries:
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: invited-enrollment}
      attrs: {name: Sign up, designation: enrollment, authentication: require_unauthenticated}
    - model: authentik_stages_invitation.invitationstage
      id: invitation
      identifiers: {name: invited-enrollment-invitation}
      attrs: {continue_flow_without_invitation: !Value 0}
    - model: authentik_stages_prompt.prompt
      id: username
      identifiers: {name: invited-enrollment-username}
      attrs: {field_key: username, label: Username, type: username, required: true}
    - model: authentik_stages_prompt.prompt
      id: password
      identifiers: {name: invited-enrollment-password}
      attrs: {field_key: password, label: Password, type: password, required: true}
    - model: authentik_stages_prompt.promptstage
      id: prompt
      identifiers: {name: invited-enrollment-prompt}
      attrs: {fields: [!KeyOf username, !KeyOf password]}
    - model: authentik_stages_user_write.userwritestage
      id: write
      identifiers: {name: invited-enrollment-write}
      attrs: {user_creation_mode: always_create}
    - model: authentik_stages_user_login.userloginstage
      id: login
      identifiers: {name: invited-enrollment-login}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf invitation}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 20, target: !KeyOf flow, stage: !KeyOf prompt}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 30, target: !KeyOf flow, stage: !KeyOf write}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 40, target: !KeyOf flow, stage: !KeyOf login}
    """)


def import_blueprint(runner, tmp_path, text, *flags):
    path = tmp_path / "blueprint.yaml"
    path.write_text(text)
    return runner.invoke(args=["flows", "import", *flags, str(path)])


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def test_an_invitation_only_sign_up_whose_invitation_step_cannot_be_read_is_not_imported(
    app, runner, tmp_path, visitor
):
    result = import_blueprint(runner, tmp_path, INVITATION_ONLY)
    assert "flow (slug=invited-enrollment): its stage binding" in result.stderr
    assert "invited-enrollment" not in result.stdout
    before = user_count(app)
    response = visitor.open("invited-enrollment")
    assert response.status_code == 404
    visitor.get("/enroll")
    response = visitor.post(
        "/flow/invited-enrollment/", {"username": "mallory", "password": "x" * 16}, csrf=False
    )
    assert response.status_code in (400, 404)
    assert user_count(app) == before


def test_an_invitation_only_sign_up_read_from_a_blueprint_admits_no_one_without_one(
    app, runner, tmp_path, visitor
):
    result = import_blueprint(
        runner, tmp_path, INVITATION_ONLY.replace("!Value 0", "false"), "--strict"
    )
    assert result.exit_code == 0, result.output
    assert "create    flow   invited-enrollment" in result.stdout
    before = user_count(app)
    visitor.open("invited-enrollment")
    assert "You need an invitation to continue." in visitor.text
    assert 'name="username"' not in visitor.page
    visitor.post(
        "/flow/invited-enrollment/", {"username": "mallory", "password": "x" * 16}, csrf=False
    )
    assert user_count(app) == before
