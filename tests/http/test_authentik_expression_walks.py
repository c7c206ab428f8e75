"""authentik blueprints whose flows hang on Python expression policies: imported with the Python
translated (never run), then walked over HTTP as authentik would walk them.

authentik's own default sign-in blueprint gates its password stage with a Python expression (and,
in later versions, its MFA stage with another). Before the translation Gatehouse left that flow
out; now a user without an authenticator signs in with the password alone and a user with an
authenticator app is asked for its code.
"""

from textwrap import dedent

import pyotp
import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.credentials import authenticators
from idp.identity.accounts import groups_of
from idp.models import Policy, WebAuthnDevice
from idp.policies.registry import POLICY_TYPES
from idp.policies.types import PolicyRequest, PolicyUser
from idp.transfer.python_expressions import translate_policy
from tests.conftest import SHARED
from tests.factories import PASSWORD, make_group, make_user
from tests.http.stages.test_authenticators import Clock

AUTHENTICATION = (
    SHARED / "authentik-blueprints" / "default" / "flow-default-authentication-flow.yaml"
)
SLUG = "ak-authentication-flow"

needs_blueprints = pytest.mark.skipif(
    not AUTHENTICATION.is_file(),
    reason=f"authentik's blueprints are not in {AUTHENTICATION.parent}",
)

# authentik's later default adds a policy on the MFA binding that skips it after a passkey
# sign-in (the shared copy's README); the expression is authentik's, the entries that bind it
# repeat the MFA binding's identifiers, as a blueprint does to change an entry of another.
LATER_MFA_POLICY = dedent("""\
    - identifiers:
        order: 30
        stage: !KeyOf default-authentication-mfa-validation
        target: !KeyOf flow
      id: default-authentication-flow-mfa-binding
      model: authentik_flows.flowstagebinding
      attrs:
        re_evaluate_policies: true
    - model: authentik_policies_expression.expressionpolicy
      id: default-authentication-flow-mfa-optional
      identifiers:
        name: default-authentication-flow-authenticator-validate-stage
      attrs:
        expression: |
          flow_plan = request.context.get("flow_plan")
          if not flow_plan:
              return True
          return not (flow_plan.context.get("auth_method") == "auth_webauthn_pwl")
    - model: authentik_policies.policybinding
      identifiers:
        order: 10
        target: !KeyOf default-authentication-flow-mfa-binding
        policy: !KeyOf default-authentication-flow-mfa-optional
    """)


def import_file(runner, tmp_path, text, strict=False):
    path = tmp_path / "blueprint.yaml"
    path.write_text(text)
    result = runner.invoke(args=["flows", "import", *(["--strict"] if strict else []), str(path)])
    assert result.exit_code == 0, result.output
    return result


def authentication_blueprint(later=False) -> str:
    text = AUTHENTICATION.read_text()
    if later:
        text = text.rstrip("\n") + "\n" + LATER_MFA_POLICY
    return text.replace("default-authentication", "ak-authentication")


def signed_in(flows) -> bool:
    return flows.client.get("/me").status_code == 200


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


def with_totp(app, clock, username) -> pyotp.TOTP:
    """A user with an authenticator app, set up one TOTP step before now."""
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    with app.app_context():
        user = make_user(username)
        settings = authenticators.TotpSettings()
        assert authenticators.add_totp_device(user, secret, settings, clock.code(totp))
        db.session.commit()
    clock.advance()
    return totp


@needs_blueprints
@pytest.mark.parametrize("later", [False, True], ids=["snapshot", "with the later MFA policy"])
def test_the_default_sign_in_imports_whole_with_its_python_translated(app, runner, tmp_path, later):
    result = import_file(runner, tmp_path, authentication_blueprint(later))
    assert f"create    flow   {SLUG}" in result.stdout
    assert "expressionpolicy" not in result.stderr
    assert f"{SLUG})" not in result.stderr  # the flow itself is not named as left out
    with app.app_context():
        rows = db.session.execute(
            select(Policy.name, Policy.options).where(Policy.type == "expression")
        ).all()
        expressions = dict(rows)
    assert expressions["ak-authentication-flow-password-stage"]["expression"] == (
        "not plan.is_user_proved"
    )
    if later:
        assert expressions["ak-authentication-flow-authenticator-validate-stage"]["expression"] == (
            'not (plan.auth_method == "passkey")'
        )


@needs_blueprints
@pytest.mark.parametrize("later", [False, True], ids=["snapshot", "with the later MFA policy"])
def test_a_user_without_an_authenticator_signs_in_with_the_password_alone(
    app, runner, flows, tmp_path, later
):
    import_file(runner, tmp_path, authentication_blueprint(later))
    with app.app_context():
        make_user("ada", email="ada@example.test")
    flows.open(SLUG)
    assert "Welcome to authentik!" in flows.text
    assert flows.stage == "identification"
    flows.submit(SLUG, {"uid_field": "ada@example.test"})
    assert flows.stage == "password"  # the translated policy: nobody is proved yet
    flows.submit(SLUG, {"password": "wrong"})
    assert flows.stage == "password" and not signed_in(flows)
    response = flows.submit(SLUG, {"password": PASSWORD})
    assert response.status_code == 303
    assert signed_in(flows)


@needs_blueprints
@pytest.mark.parametrize("later", [False, True], ids=["snapshot", "with the later MFA policy"])
def test_a_user_with_an_authenticator_app_gets_the_code_step(
    app, runner, flows, tmp_path, clock, later
):
    import_file(runner, tmp_path, authentication_blueprint(later))
    totp = with_totp(app, clock, "grace")
    flows.sign_in("grace", PASSWORD, slug=SLUG)
    assert flows.stage == "authenticator_validate"
    assert not signed_in(flows)
    flows.submit(SLUG, {"code": "000000" if clock.code(totp) != "000000" else "111111"})
    assert flows.stage == "authenticator_validate" and not signed_in(flows)
    flows.submit(SLUG, {"code": clock.code(totp)})
    assert signed_in(flows)


# -- expression policies that ask the database ---------------------------------------------------

AUTHENTICATOR_SNIPPETS = [
    (
        "authentik docs expressions/reference/_functions",
        """return (
    ak_is_group_member(request.user, name="operators")
    and ak_user_has_authenticator(request.user)
    and regex_match(request.user.username, '.*admin.*')
)""",
        {"ops-admin-totp": (True, ()), "ops-admin": (False, ()), "admin-totp": (False, ())},
    ),
    (
        "Terraform, authentik_policy_expression secure-access (code search)",
        """if ak_user_has_authenticator(request.user):
    return True
ak_message("Some apps are hidden due to no MFA enabled. Enable MFA to see them.")
return False""",
        {
            "admin-totp": (True, ()),
            "ops-admin": (
                False,
                ("Some apps are hidden due to no MFA enabled. Enable MFA to see them.",),
            ),
        },
    ),
    (
        "Terraform, admin-mfa-required (code search)",
        """user = request.context.get("pending_user")
if not user or not user.pk or not user.is_superuser:
    return False
return not (ak_user_has_authenticator(user, "totp") or ak_user_has_authenticator(user, "webauthn"))""",  # noqa: E501
        {"root": (True, ()), "root-passkey": (False, ()), "admin-totp": (False, ())},
    ),
    (
        "Terraform, Harbor MFA enrollment (code search)",
        """return (
  ak_user_has_authenticator(request.user, "totp") or
  ak_user_has_authenticator(request.user, "webauthn")
)""",
        {"admin-totp": (True, ()), "root-passkey": (True, ()), "ops-admin": (False, ())},
    ),
    (
        "Terraform, check_recovery_codes_presence (code search)",
        "return ak_user_has_authenticator(request.user, 'static')",
        {"ops-admin-codes": (True, ()), "admin-totp": (False, ())},
    ),
    (
        "policy with a user attribute and a passkey (code search)",
        """if request.context["pending_user"].attributes["standard-auth"] == "No" and ak_user_has_authenticator(context['pending_user'], 'webauthn'):
  return True
return False""",  # noqa: E501
        {"root-passkey": (True, ()), "root": (False, ())},
    ),
]


@pytest.fixture
def people(app, clock):
    """Users with and without authenticators, as the policy engine sees them."""
    with app.app_context():
        operators = make_group("operators")
        made = {
            "ops-admin-totp": make_user("ops-admin-totp", groups=[operators]),
            "ops-admin": make_user("ops-admin", groups=[operators]),
            "ops-admin-codes": make_user("ops-admin-codes", groups=[operators]),
            "admin-totp": make_user("admin-totp"),
            "root": make_user("root", superuser=True),
            "root-passkey": make_user("root-passkey", superuser=True),
        }
        for name in ("ops-admin-totp", "admin-totp"):
            secret = pyotp.random_base32()
            code = pyotp.TOTP(secret).at(clock.now)
            authenticators.add_totp_device(made[name], secret, authenticators.TotpSettings(), code)
        authenticators.replace_recovery_codes(made["ops-admin-codes"], 2)
        db.session.add(
            WebAuthnDevice(
                user_id=made["root-passkey"].id,
                credential_id="Y3JlZGVudGlhbA",
                public_key=b"\x00",
                user_handle="aGFuZGxl",
            )
        )
        for name in ("root", "root-passkey"):
            made[name].attributes = {"standard-auth": "No"}
        db.session.commit()
        return {name: PolicyUser.from_user(user, groups_of(user)) for name, user in made.items()}


@pytest.mark.parametrize(
    ("origin", "python", "expected"),
    AUTHENTICATOR_SNIPPETS,
    ids=[s[0] for s in AUTHENTICATOR_SNIPPETS],
)
def test_authenticator_checks_decide_as_in_authentik(app, people, origin, python, expected):
    policy = POLICY_TYPES["expression"]
    options = policy.parse_options({"expression": translate_policy(python).expression})
    with app.test_request_context():
        for name, (passing, messages) in expected.items():
            request = PolicyRequest(user=people[name])
            result = policy.evaluate(request, options)
            assert (result.passing, result.messages) == (passing, messages), name


# -- messages and prompt values ---------------------------------------------------------------

SIGN_UP = dedent("""\
    version: 1
    entries:
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: ak-profile}
      attrs:
        name: Profile
        designation: stage_configuration
        authentication: require_authenticated
    - model: authentik_stages_prompt.prompt
      id: email
      identifiers: {name: ak-profile-email}
      attrs:
        field_key: email
        label: Email
        type: email
        required: true
        initial_value: |
          try:
              return user.email
          except:
              return ''
        initial_value_expression: true
    - model: authentik_stages_prompt.prompt
      id: plan
      identifiers: {name: ak-profile-plan}
      attrs:
        field_key: plan
        label: Plan
        type: dropdown
        required: true
        placeholder: return ["Free", "Team"]
        placeholder_expression: true
    - model: authentik_policies_expression.expressionpolicy
      id: company-only
      identifiers: {name: ak-profile-company-only}
      attrs:
        expression: |
          email = request.context["prompt_data"]["email"].lower()
          if email.endswith("@example.test"):
              return True
          ak_message(f"{email} is not a company address.")
          return False
    - model: authentik_stages_prompt.promptstage
      id: prompt
      identifiers: {name: ak-profile-prompt}
      attrs:
        fields: [!KeyOf email, !KeyOf plan]
        validation_policies: [!KeyOf company-only]
    - model: authentik_stages_deny.denystage
      id: done
      identifiers: {name: ak-profile-done}
      attrs: {deny_message: Saved}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf prompt}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 20, target: !KeyOf flow, stage: !KeyOf done}
    """)


def test_prompt_values_and_messages_written_in_python_work_in_gatehouse(
    app, runner, flows, tmp_path
):
    import_file(runner, tmp_path, SIGN_UP, strict=True)
    with app.app_context():
        make_user("ada", email="ada@example.test")
    flows.sign_in("ada", PASSWORD)
    flows.open("ak-profile")
    assert 'value="ada@example.test"' in flows.page  # authentik's try/except, translated
    assert '<option value="Team">Team</option>' in flows.page  # choices from a Python list
    flows.submit("ak-profile", {"email": "Ada@Elsewhere.example", "plan": "Team"})
    assert "ada@elsewhere.example is not a company address." in flows.text
    flows.submit("ak-profile", {"email": "ada@example.test", "plan": "Team"})
    assert "Saved" in flows.text


ADMINS_ONLY = dedent("""\
    version: 1
    entries:
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: ak-admins-only}
      attrs:
        name: Admin tools
        designation: stage_configuration
        authentication: require_authenticated
    - model: authentik_policies_expression.expressionpolicy
      id: admins
      identifiers: {name: ak-admins-only}
      attrs:
        expression: |
          if request.user.is_superuser:
              return True
          ak_message("Administrators only.")
          return False
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf flow, policy: !KeyOf admins}
    - model: authentik_stages_deny.denystage
      id: inside
      identifiers: {name: ak-admins-only-inside}
      attrs: {deny_message: Welcome in}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf inside}
    """)


@pytest.mark.parametrize(
    ("username", "shown"), [("bob", "Administrators only."), ("root", "Welcome in")]
)
def test_a_flow_policys_ak_message_is_what_a_refused_visitor_reads(
    app, runner, flows, tmp_path, username, shown
):
    import_file(runner, tmp_path, ADMINS_ONLY, strict=True)
    with app.app_context():
        make_user(username, superuser=username == "root")
    flows.sign_in(username, PASSWORD)
    flows.open("ak-admins-only")
    assert shown in flows.text
    hidden = ({"Administrators only.", "Welcome in"} - {shown}).pop()
    assert hidden not in flows.text
