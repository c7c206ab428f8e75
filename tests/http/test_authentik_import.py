"""`idp flows import` on authentik's own default blueprints, kept next to the repository."""

import re

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.credentials.authenticators import replace_recovery_codes
from idp.models import Flow, Policy, PolicyBinding, Stage, StageBinding
from tests.conftest import SHARED
from tests.factories import PASSWORD, make_user

BLUEPRINTS = SHARED / "authentik-blueprints" / "default"
BLUEPRINT_FILES = sorted(BLUEPRINTS.glob("*.yaml")) if BLUEPRINTS.is_dir() else []
AUTHENTICATION = "flow-default-authentication-flow.yaml"
INVALIDATION = "flow-default-invalidation-flow.yaml"
# The authentik models Gatehouse imports; every other model in a blueprint must be named.
MAPPED_MODELS = {
    "authentik_flows.flow",
    "authentik_flows.flowstagebinding",
    "authentik_policies.policybinding",
    "authentik_policies_dummy.dummypolicy",
    "authentik_policies_expression.expressionpolicy",
    "authentik_stages_identification.identificationstage",
    "authentik_stages_password.passwordstage",
    "authentik_stages_prompt.promptstage",
    "authentik_stages_prompt.prompt",
    "authentik_stages_user_write.userwritestage",
    "authentik_stages_user_login.userloginstage",
    "authentik_stages_user_logout.userlogoutstage",
    "authentik_stages_deny.denystage",
    "authentik_stages_authenticator_totp.authenticatortotpstage",
    "authentik_stages_authenticator_static.authenticatorstaticstage",
    "authentik_stages_authenticator_validate.authenticatorvalidatestage",
    "authentik_stages_consent.consentstage",
    "authentik_policies_password.passwordpolicy",
    "authentik_policies_reputation.reputationpolicy",
    "authentik_stages_email.emailstage",
    "authentik_stages_invitation.invitationstage",
    "authentik_stages_captcha.captchastage",
    "authentik_stages_user_delete.userdeletestage",
}

pytestmark = pytest.mark.skipif(
    not BLUEPRINT_FILES, reason=f"authentik's blueprints are not in {BLUEPRINTS}"
)


def counts(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Flow, Stage, Policy, StageBinding, PolicyBinding)
        )


def renamed(tmp_path, name, old, new) -> str:
    """The blueprint with its slugs and names changed, so it builds new objects."""
    path = tmp_path / name
    path.write_text((BLUEPRINTS / name).read_text().replace(old, new))
    return str(path)


def without_python_condition(tmp_path, old="default-authentication", new="ak-authentication"):
    """The authentication blueprint without its expression policy (Python, which Gatehouse does
    not run) and the binding that makes the password stage depend on it."""
    text = (BLUEPRINTS / AUTHENTICATION).read_text()
    text = text[: text.index("- model: authentik_policies_expression.expressionpolicy")]
    path = tmp_path / AUTHENTICATION
    path.write_text(text.replace(old, new))
    return str(path)


def skipped_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("skipped: ")]


@pytest.mark.parametrize("path", BLUEPRINT_FILES, ids=lambda path: path.name)
def test_every_default_blueprint_imports_and_names_every_model_it_skips(app, runner, path):
    result = runner.invoke(args=["flows", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert all(
        line.startswith(("skipped: ", "resolved: ", "unbound: "))
        for line in result.stderr.splitlines()
    )
    # A model Gatehouse does not import is named: skipped, or (a blueprint it applies) resolved.
    for model in set(re.findall(r"model: (\S+)", path.read_text())) - MAPPED_MODELS:
        assert any(model in line for line in result.stderr.splitlines()), model


@pytest.mark.parametrize("path", BLUEPRINT_FILES, ids=lambda path: path.name)
def test_importing_a_blueprint_twice_changes_nothing_the_second_time(app, runner, path):
    first = runner.invoke(args=["flows", "import", str(path)])
    before = counts(app)
    second = runner.invoke(args=["flows", "import", str(path)])
    assert second.exit_code == 0, second.output
    assert "create" not in second.stdout and "update" not in second.stdout
    # The first import may unbind what the shipped flow had and the file does not.
    assert second.stderr == "".join(
        line + "\n" for line in first.stderr.splitlines() if not line.startswith("unbound: ")
    )
    assert counts(app) == before


def test_the_authentication_blueprint_imports_with_its_python_condition_translated(
    app, runner, tmp_path
):
    path = renamed(tmp_path, AUTHENTICATION, "default-authentication", "ak-authentication")
    result = runner.invoke(args=["flows", "import", path])
    assert result.exit_code == 0, result.output
    assert "create    flow   ak-authentication-flow" in result.stdout
    skipped = "\n".join(skipped_lines(result))
    assert "expressionpolicy" not in skipped
    assert "ak-authentication-flow)" not in skipped
    with app.app_context():
        policy = db.session.scalar(
            select(Policy).where(Policy.name == "ak-authentication-flow-password-stage")
        )
        assert (policy.type, policy.options["expression"]) == (
            "expression",
            "not plan.is_user_proved",
        )


def test_the_imported_authentication_flow_signs_a_user_in(app, runner, flows, tmp_path):
    result = runner.invoke(args=["flows", "import", without_python_condition(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "create    flow   ak-authentication-flow" in result.stdout
    skipped = "\n".join(skipped_lines(result))
    assert "mfa-validation" not in skipped
    assert "ak-authentication-flow)" not in skipped
    with app.app_context():
        make_user("ada", email="ada@example.test")
    slug = "ak-authentication-flow"
    flows.open(slug)
    assert "Welcome to authentik!" in flows.text
    flows.sign_in("ada", "wrong password", slug=slug)
    assert flows.client.get("/me").status_code == 302
    flows.client.get(f"/flow/{slug}/restart")
    flows.sign_in("ada@example.test", PASSWORD, slug=slug)
    assert flows.client.get("/me").status_code == 200


def test_the_imported_authentication_flow_asks_for_a_second_factor(app, runner, flows, tmp_path):
    path = without_python_condition(tmp_path)
    assert runner.invoke(args=["flows", "import", path]).exit_code == 0
    with app.app_context():
        ada = make_user("ada")
        (code, *_others) = replace_recovery_codes(ada, 2)
        db.session.commit()
    slug = "ak-authentication-flow"
    flows.sign_in("ada", PASSWORD, slug=slug)
    assert flows.stage == "authenticator_validate"
    assert flows.client.get("/me").status_code == 302
    flows.submit(slug, {"code": code})
    assert flows.client.get("/me").status_code == 200


def test_importing_over_the_shipped_authentication_flow_keeps_it_working(
    app, runner, flows, tmp_path
):
    path = without_python_condition(tmp_path, old="", new="")
    result = runner.invoke(args=["flows", "import", path])
    assert result.exit_code == 0, result.output
    assert "update    flow   default-authentication-flow" in result.stdout
    with app.app_context():
        make_user("ada")
    flows.sign_in("ada", PASSWORD)
    assert flows.client.get("/me").status_code == 200


def test_the_imported_invalidation_flow_signs_out(app, runner, flows, tmp_path):
    path = renamed(tmp_path, INVALIDATION, "default-invalidation", "ak-invalidation")
    result = runner.invoke(args=["flows", "import", path])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    with app.app_context():
        make_user("ada")
    flows.sign_in("ada", PASSWORD)
    assert flows.client.get("/me").status_code == 200
    flows.client.get("/flow/ak-invalidation-flow/", follow_redirects=True)
    assert flows.client.get("/me").status_code == 302


def test_strict_refuses_a_blueprint_with_skipped_entries_and_writes_nothing(app, runner, tmp_path):
    path = renamed(tmp_path, AUTHENTICATION, "default-authentication", "ak-authentication")
    before = counts(app)
    result = runner.invoke(args=["flows", "import", "--strict", path])
    assert result.exit_code == 2
    assert "Error: --strict" in result.stderr
    assert "metaapplyblueprint" in result.stderr
    assert result.stdout == ""
    assert counts(app) == before


def test_strict_accepts_a_blueprint_that_maps_completely(app, runner, tmp_path):
    path = renamed(tmp_path, INVALIDATION, "default-invalidation", "ak-invalidation")
    result = runner.invoke(args=["flows", "import", "--strict", path])
    assert result.exit_code == 0, result.output
    assert "create    flow   ak-invalidation-flow" in result.stdout


def test_dry_run_shows_the_changes_and_writes_nothing(app, runner, tmp_path):
    path = without_python_condition(tmp_path)
    before = counts(app)
    result = runner.invoke(args=["flows", "import", "--dry-run", path])
    assert result.exit_code == 0, result.output
    assert "create    flow   ak-authentication-flow" in result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert counts(app) == before


def test_the_setup_blueprint_leaves_initial_setup_closed_behind_its_gate(app, runner):
    before = runner.invoke(args=["flows", "export", "initial-setup"]).output
    result = runner.invoke(args=["flows", "import", str(BLUEPRINTS / "flow-oobe.yaml")])
    assert result.exit_code == 0, result.output
    assert "authentik_flows.flow (slug=initial-setup): its own policy binding" in result.stderr
    assert runner.invoke(args=["flows", "export", "initial-setup"]).output == before


FLOW_ENTRY = "version: 1\nentries:\n  - model: authentik_flows.flow\n    identifiers: {slug: x}\n"
BAD_BLUEPRINTS = [
    ("version: 1\nentries:\n  - model: [\n", "not valid YAML (line"),
    ("version: 1\nentries:\n  - model: !Teleport x\n", "line 3: unknown tag !Teleport"),
    (
        "version: 1\nentries:\n  - model: authentik_flows.flowstagebinding\n"
        "    identifiers: {order: 0, target: !KeyOf nowhere, stage: !KeyOf nowhere}\n",
        "entries[0] authentik_flows.flowstagebinding (line 4): !KeyOf 'nowhere'",
    ),
    (
        "version: 1\nentries:\n  - model: authentik_flows.flow\n    attrs: [1, 2]\n",
        "entries[0] authentik_flows.flow (line 3): attrs must be a mapping",
    ),
    ("version: 1\nentries: []\n", "authentik blueprint has no entries"),
    (
        "version: 1\nentries:\n  - model: authentik_flows.flow\n"
        '    attrs: {title: !Format ["%s", "\\udc80"]}\n',
        "line 4): a \\u escape that is no character",
    ),
    # Gatehouse's own settings would be written where visitors read them.
    (
        FLOW_ENTRY
        + "    attrs: {designation: authentication, name: x, title: !Env IDP_SECRET_KEY}\n",
        "!Env IDP_SECRET_KEY: Gatehouse's own settings are not read",
    ),
    (FLOW_ENTRY + "    attrs: {title: !AtIndex [{a: 1}, [x]]}\n", "!AtIndex: [x] is not a key"),
    (
        FLOW_ENTRY + "    attrs: {title: !Enumerate [[1, 2], MAP, [[a], b]]}\n",
        "!Enumerate MAP keys must be text or numbers",
    ),
    (
        FLOW_ENTRY + '    attrs: {title: !Format ["%999999999999s", a]}\n',
        "widths and precisions above 1000 are refused",
    ),
    (
        FLOW_ENTRY + "    attrs: {title: !ParseJSON '" + "[" * 50000 + "'}\n",
        "!ParseJSON: nested too deeply",
    ),
    # 24 KB that copies a list of 8,000 for each of its 8,000 items: 64 million values.
    (
        "version: 1\ncontext:\n  big: ["
        + ",".join("0" * 8000)
        + "]\n"
        + FLOW_ENTRY[11:]
        + '    attrs: {title: !Enumerate ["'
        + "x" * 8000
        + '", SEQ, !Context big]}\n',
        "!Enumerate makes too many values",
    ),
]


@pytest.mark.parametrize(("text", "message"), BAD_BLUEPRINTS)
def test_a_bad_blueprint_is_one_line_with_its_place_and_nothing_is_written(
    app, runner, tmp_path, text, message
):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    before = counts(app)
    result = runner.invoke(args=["flows", "import", str(path)])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert counts(app) == before


def test_a_bad_blueprint_among_good_files_writes_nothing(app, runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nentries:\n  - model: !KeyOf x\n")
    before = counts(app)
    result = runner.invoke(args=["flows", "import", str(BLUEPRINTS / INVALIDATION), str(bad)])
    assert result.exit_code == 2
    assert counts(app) == before
