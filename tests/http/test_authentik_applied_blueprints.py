"""`authentik_blueprints.metaapplyblueprint`: `idp flows import` imports the blueprint an entry
applies first (by path, relative to the importing file or a --blueprints-dir, or by metadata
name), each once; a cycle is refused, a missing one is named (left out when optional)."""

import re
from textwrap import dedent

from sqlalchemy import select

from idp.core.extensions import db
from idp.models import Flow, Stage, StageBinding
from tests.factories import PASSWORD, make_user
from tests.http.test_authentik_import import BLUEPRINTS

# The applied blueprint: a password stage the applying one binds with !Find, so the import
# works only when this one is imported first.
STAGES = dedent("""\
    version: 1
    metadata: {name: Shared stages}
    entries:
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: shared-holder}
      attrs: {name: Holder, designation: authentication}
    - model: authentik_stages_password.passwordstage
      id: password
      identifiers: {name: shared-password}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf password}
    """)


def applying(reference: str, slug: str = "applied-sign-in") -> str:
    return dedent(f"""\
        version: 1
        metadata: {{name: Sign in {slug}}}
        entries:
        - model: authentik_blueprints.metaapplyblueprint
          {reference}
        - model: authentik_flows.flow
          id: flow
          identifiers: {{slug: {slug}}}
          attrs: {{name: Sign in, designation: authentication}}
        - model: authentik_stages_identification.identificationstage
          id: identification
          identifiers: {{name: {slug}-identification}}
        - model: authentik_stages_user_login.userloginstage
          id: login
          identifiers: {{name: {slug}-login}}
        - model: authentik_flows.flowstagebinding
          identifiers: {{order: 10, target: !KeyOf flow, stage: !KeyOf identification}}
        - model: authentik_flows.flowstagebinding
          identifiers:
            order: 20
            target: !KeyOf flow
            stage: !Find [authentik_stages_password.passwordstage, [name, shared-password]]
        - model: authentik_flows.flowstagebinding
          identifiers: {{order: 100, target: !KeyOf flow, stage: !KeyOf login}}
        """)


def write(folder, name, text):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def import_files(runner, *arguments):
    return runner.invoke(args=["flows", "import", *map(str, arguments)])


def stage_names(app, slug):
    with app.app_context():
        rows = db.session.execute(
            select(Stage.name)
            .join(StageBinding, StageBinding.stage_id == Stage.id)
            .join(Flow, Flow.id == StageBinding.flow_id)
            .where(Flow.slug == slug)
            .order_by(StageBinding.order)
        )
        return [name for (name,) in rows]


def test_a_blueprint_applied_by_path_next_to_it_is_imported_first_and_its_stage_used(
    app, runner, flows, tmp_path
):
    write(tmp_path, "stages.yaml", STAGES)
    main = write(tmp_path, "main.yaml", applying("attrs: {identifiers: {path: stages.yaml}}"))
    result = import_files(runner, "--strict", main)
    assert result.exit_code == 0, result.output
    assert "applies stages.yaml (path=stages.yaml), imported first" in result.stderr
    assert result.stdout.index("shared-holder") < result.stdout.index("applied-sign-in")
    assert stage_names(app, "applied-sign-in") == [
        "applied-sign-in-identification",
        "shared-password",
        "applied-sign-in-login",
    ]
    with app.app_context():
        make_user("ada")
    flows.sign_in("ada", PASSWORD, slug="applied-sign-in")
    assert flows.client.get("/me").status_code == 200


def test_a_blueprint_applied_by_name_is_found_in_a_blueprints_folder(app, runner, tmp_path):
    write(tmp_path / "library" / "shared", "any-file-name.yaml", STAGES)
    main = write(
        tmp_path / "mine", "main.yaml", applying("attrs: {identifiers: {name: Shared stages}}")
    )
    without = import_files(runner, "--dry-run", main)
    assert without.exit_code == 0, without.output
    assert "the blueprint it applies (name=Shared stages) is not in" in without.stderr
    result = import_files(runner, "--blueprints-dir", tmp_path / "library", main)
    assert result.exit_code == 0, result.output
    assert "applies any-file-name.yaml (name=Shared stages)" in result.stderr
    assert "shared-password" in stage_names(app, "applied-sign-in")


def test_a_path_is_read_relative_to_a_blueprints_folder_and_the_entry_s_own_identifiers(
    app, runner, tmp_path
):
    write(tmp_path / "root" / "system", "stages.yaml", STAGES)
    main = write(
        tmp_path / "mine", "main.yaml", applying("identifiers: {path: system/stages.yaml}")
    )
    result = import_files(runner, "--strict", "--blueprints-dir", tmp_path / "root", main)
    assert result.exit_code == 0, result.output
    assert "shared-password" in stage_names(app, "applied-sign-in")


def test_a_file_applied_and_also_named_is_imported_once(app, runner, tmp_path):
    stages = write(tmp_path, "stages.yaml", STAGES)
    main = write(tmp_path, "main.yaml", applying("attrs: {identifiers: {path: stages.yaml}}"))
    result = import_files(runner, main, stages)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("shared-holder") == 1
    assert "shared-password" in stage_names(app, "applied-sign-in")


def test_blueprints_that_apply_each_other_are_refused_naming_the_cycle(app, runner, tmp_path):
    first = write(tmp_path, "first.yaml", applying("attrs: {identifiers: {path: second.yaml}}"))
    write(tmp_path, "second.yaml", applying("attrs: {identifiers: {path: first.yaml}}", "other"))
    result = import_files(runner, first)
    assert result.exit_code == 2
    assert "apply each other in a cycle" in result.stderr
    assert "first.yaml -> " in result.stderr and "second.yaml -> " in result.stderr
    with app.app_context():
        assert db.session.scalar(select(Flow).where(Flow.slug == "other")) is None


def test_a_missing_required_blueprint_is_named_and_strict_refuses(app, runner, tmp_path):
    main = write(tmp_path, "main.yaml", applying("attrs: {identifiers: {path: gone.yaml}}"))
    result = import_files(runner, "--strict", main)
    assert result.exit_code == 2
    assert "skipped: " in result.stderr
    assert "the blueprint it applies (path=gone.yaml) is not in" in result.stderr
    assert "--strict: " in result.stderr


def test_a_missing_optional_blueprint_is_left_out_quietly_with_a_note(app, runner, tmp_path):
    reference = "attrs: {identifiers: {name: Nowhere}, required: false}"
    write(tmp_path, "stages.yaml", STAGES)
    text = applying(reference).replace(
        "- model: authentik_flows.flow\n",
        "- model: authentik_blueprints.metaapplyblueprint\n"
        "  attrs: {identifiers: {path: stages.yaml}}\n- model: authentik_flows.flow\n",
        1,
    )
    main = write(tmp_path, "main.yaml", text)
    result = import_files(runner, "--strict", main)
    assert result.exit_code == 0, result.output
    assert "resolved: " in result.stderr
    assert "the optional blueprint it applies (name=Nowhere) is not in" in result.stderr


def test_a_path_out_of_the_folders_is_not_followed(app, runner, tmp_path):
    write(tmp_path, "stages.yaml", STAGES)
    main = write(
        tmp_path / "mine", "main.yaml", applying("attrs: {identifiers: {path: ../stages.yaml}}")
    )
    result = import_files(runner, "--dry-run", main)
    assert result.exit_code == 0, result.output
    assert "the blueprint it applies (path=../stages.yaml) is not in" in result.stderr
    assert "shared-holder" not in result.stdout


def test_a_dry_run_writes_neither_the_file_nor_what_it_applies(app, runner, tmp_path):
    write(tmp_path, "stages.yaml", STAGES)
    main = write(tmp_path, "main.yaml", applying("attrs: {identifiers: {path: stages.yaml}}"))
    result = import_files(runner, "--dry-run", main)
    assert result.exit_code == 0, result.output
    assert "shared-holder" in result.stdout
    with app.app_context():
        slugs = set(db.session.scalars(select(Flow.slug)))
    assert not {"shared-holder", "applied-sign-in"} & slugs


def test_authentik_s_authentication_blueprint_applies_its_password_change_blueprint(app, runner):
    """As in authentik, which applies it first; what replacing Gatehouse's own password change
    flow unbinds is named on unbound: lines."""
    result = import_files(runner, BLUEPRINTS / "flow-default-authentication-flow.yaml")
    assert result.exit_code == 0, result.output
    assert "applies flow-password-change.yaml (name=Default - Password change flow)" in (
        result.stderr
    )
    assert re.search(r"^update\s+flow\s+default-password-change$", result.stdout, re.MULTILINE)
    assert "unbound: " in result.stderr
