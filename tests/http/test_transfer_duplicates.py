"""Files imported together that define the same object: one import takes each flow from one
file, and a stage, policy, scope mapping or application from several only when they agree.
Otherwise nothing is written and both files are named, never the last one silently winning."""

from textwrap import dedent

import pytest
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Application, Flow, Policy, PolicyBinding, Stage, StageBinding
from tests.factories import make_group, make_user
from tests.http.test_transfer_applications import APPLICATIONS


@pytest.fixture
def people(app):
    """Whom the applications of APPLICATIONS are bound to."""
    with app.app_context():
        make_user("alice", groups=[make_group("staff")])


def flow_file(slug: str, message: str = "No entry", stage: str = "notice") -> str:
    return dedent(f"""\
        version: 1
        flow:
          slug: {slug}
          name: {slug}
          designation: authentication
          policies: [{{policy: {stage}-rule}}]
          stages:
            - {{stage: {stage}, order: 10}}
        stages:
          - {{name: {stage}, type: deny, options: {{message: {message}}}}}
        policies:
          - {{name: {stage}-rule, type: dummy, options: {{result: true}}}}
        """)


def blueprint(slug: str, message: str) -> str:
    return dedent(f"""\
        version: 1
        metadata: {{name: {slug}}}
        entries:
        - model: authentik_flows.flow
          id: flow
          identifiers: {{slug: {slug}}}
          attrs: {{name: {slug}, designation: authentication}}
        - model: authentik_stages_deny.denystage
          id: deny
          identifiers: {{name: blueprint-notice}}
          attrs: {{deny_message: {message}}}
        - model: authentik_flows.flowstagebinding
          identifiers: {{order: 10, target: !KeyOf flow, stage: !KeyOf deny}}
        """)


def binding_to_the_shipped_sign_in(stage: str) -> str:
    """A blueprint that adds one stage to a flow it finds, as authentik's examples do."""
    return dedent(f"""\
        version: 1
        metadata: {{name: {stage}}}
        entries:
        - model: authentik_stages_deny.denystage
          id: deny
          identifiers: {{name: {stage}}}
          attrs: {{deny_message: {stage}}}
        - model: authentik_flows.flowstagebinding
          identifiers:
            order: 5
            target: !Find [authentik_flows.flow, [slug, default-authentication-flow]]
            stage: !KeyOf deny
        """)


def write(tmp_path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def import_files(runner, *paths):
    return runner.invoke(args=["flows", "import", *paths])


def counts(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Flow, Stage, Policy, StageBinding, PolicyBinding, Application)
        )


def refused(app, runner, *paths):
    """Import the files, expecting a refusal (exit 2, no traceback) that wrote nothing."""
    before = counts(app)
    result = import_files(runner, *paths)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert counts(app) == before
    return result


def errors(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("Error: ")]


@pytest.mark.parametrize("dry_run", [[], ["--dry-run"]], ids=["import", "dry-run"])
def test_two_files_with_one_flow_slug_are_refused_naming_both_and_nothing_is_written(
    app, runner, tmp_path, dry_run
):
    first = write(tmp_path, "first.yaml", flow_file("twice"))
    second = write(tmp_path, "second.yaml", flow_file("twice", stage="other-notice"))
    result = refused(app, runner, *dry_run, first, second)
    assert errors(result) == [
        f"Error: {second}: flow.slug: the flow 'twice' is also defined in {first} at flow.slug; "
        "one import takes each flow from one file"
    ]


def test_the_same_flow_file_twice_under_two_names_is_refused_too(app, runner, tmp_path):
    text = flow_file("copied")
    result = refused(
        app, runner, write(tmp_path, "a.yaml", text), write(tmp_path, "copy-of-a.yaml", text)
    )
    assert "the flow 'copied' is also defined in" in result.stderr


def test_a_stage_and_a_policy_two_flows_share_unchanged_are_imported_once(app, runner, tmp_path):
    result = import_files(
        runner,
        write(tmp_path, "one.yaml", flow_file("one")),
        write(tmp_path, "two.yaml", flow_file("two")),
    )
    assert result.exit_code == 0, result.output
    assert "create    stage  notice" in result.stdout
    with app.app_context():
        notices = db.session.scalars(select(Stage).where(Stage.name == "notice")).all()
        assert [stage.options["message"] for stage in notices] == ["No entry"]
        bound = db.session.scalars(
            select(Flow.slug).join(StageBinding).where(StageBinding.stage_id == notices[0].id)
        )
        assert sorted(bound) == ["one", "two"]


@pytest.mark.parametrize(
    ("second_text", "place", "kind"),
    [
        (flow_file("two", message="Go away"), "stages[0].name", "stage 'notice'"),
        (
            flow_file("two").replace("result: true", "result: false"),
            "policies[0].name",
            "policy 'notice-rule'",
        ),
    ],
    ids=["stage", "policy"],
)
def test_a_shared_stage_or_policy_that_two_files_define_differently_is_refused(
    app, runner, tmp_path, second_text, place, kind
):
    first = write(tmp_path, "one.yaml", flow_file("one"))
    second = write(tmp_path, "two.yaml", second_text)
    result = refused(app, runner, first, second)
    assert errors(result) == [
        f"Error: {second}: {place}: the {kind} is defined differently in {first} at {place}; "
        f"files imported together may repeat a {kind.split()[0]} only unchanged"
    ]


def test_every_conflict_of_three_files_is_named_at_once(app, runner, tmp_path):
    first = write(tmp_path, "one.yaml", flow_file("one"))
    second = write(tmp_path, "two.yaml", flow_file("two", message="Go away"))
    third = write(tmp_path, "three.yaml", flow_file("one", message="Not today"))
    result = refused(app, runner, first, second, third)
    problems = errors(result)
    assert len(problems) == 3, problems
    assert any(line.startswith(f"Error: {second}: stages[0].name: the stage") for line in problems)
    assert any(line.startswith(f"Error: {third}: flow.slug: the flow 'one'") for line in problems)
    assert any(line.startswith(f"Error: {third}: stages[0].name") for line in problems)


def test_one_application_defined_differently_in_two_files_is_refused(app, runner, people, tmp_path):
    first = write(tmp_path, "apps.yaml", APPLICATIONS)
    second = write(
        tmp_path, "wiki.yaml", APPLICATIONS.replace("The team's wiki", "Someone else's wiki")
    )
    result = refused(app, runner, first, second)
    assert errors(result) == [
        f"Error: {second}: applications[0].slug: the application 'wiki' is defined differently "
        f"in {first} at applications[0].slug; files imported together may repeat an "
        "application only unchanged"
    ]


def test_two_applications_of_two_files_with_one_client_id_are_refused(
    app, runner, people, tmp_path
):
    with_client_id = APPLICATIONS.replace(
        "      type: oauth2\n", "      type: oauth2\n      client_id: shared-client\n"
    )
    grafana = with_client_id[with_client_id.index("  - slug: grafana") :]
    first = write(tmp_path, "grafana.yaml", "version: 1\napplications:\n" + grafana)
    second = write(
        tmp_path,
        "grafana-2.yaml",
        "version: 1\napplications:\n" + grafana.replace("slug: grafana", "slug: grafana-2"),
    )
    result = refused(app, runner, first, second)
    assert errors(result) == [
        f"Error: {second}: applications[0].provider.client_id: 'shared-client' is also the "
        f"client_id of application 'grafana' in {first} at applications[0].provider.client_id"
    ]


def test_two_applications_of_two_files_for_one_address_are_refused(app, runner, people, tmp_path):
    wiki = APPLICATIONS[
        APPLICATIONS.index("  - slug: wiki") : APPLICATIONS.index("  - slug: grafana")
    ]
    first = write(tmp_path, "wiki.yaml", "version: 1\napplications:\n" + wiki)
    intranet = wiki.replace("slug: wiki", "slug: intranet")
    second = write(tmp_path, "intranet.yaml", "version: 1\napplications:\n" + intranet)
    result = refused(app, runner, first, second)
    assert errors(result) == [
        f"Error: {second}: applications[0].provider.options: 'wiki.example.test' is also the "
        f"address of application 'wiki' in {first} at applications[0].provider.options"
    ]


def test_two_blueprints_that_create_one_flow_are_refused_naming_both_entries(app, runner, tmp_path):
    first = write(tmp_path, "first.yaml", blueprint("blueprint-flow", "First"))
    second = write(tmp_path, "second.yaml", blueprint("blueprint-flow", "Second"))
    result = refused(app, runner, first, second)
    assert errors(result) == [
        f"Error: {second}: entries[0] authentik_flows.flow (line 4): the flow 'blueprint-flow' "
        f"is also defined in {first} at entries[0] authentik_flows.flow (line 4); one import "
        "takes each flow from one file",
        f"Error: {second}: entries[1] authentik_stages_deny.denystage (line 8): the stage "
        f"'blueprint-notice' is defined differently in {first} at entries[1] "
        "authentik_stages_deny.denystage (line 8); files imported together may repeat a stage "
        "only unchanged",
    ]


def test_two_blueprints_may_share_a_stage_they_define_alike(app, runner, tmp_path):
    result = import_files(
        runner,
        write(tmp_path, "first.yaml", blueprint("first-flow", "Alike")),
        write(tmp_path, "second.yaml", blueprint("second-flow", "Alike")),
    )
    assert result.exit_code == 0, result.output
    assert "create    flow   first-flow" in result.stdout
    assert "create    flow   second-flow" in result.stdout


def test_a_blueprint_and_a_flow_file_that_disagree_on_a_stage_are_refused(app, runner, tmp_path):
    first = write(tmp_path, "first.yaml", blueprint("blueprint-flow", "Blueprint"))
    second = write(tmp_path, "second.yaml", flow_file("gatehouse-flow", stage="blueprint-notice"))
    result = refused(app, runner, first, second)
    assert errors(result) == [
        f"Error: {second}: stages[0].name: the stage 'blueprint-notice' is defined differently "
        f"in {first} at entries[1] authentik_stages_deny.denystage (line 8); files imported "
        "together may repeat a stage only unchanged"
    ]


def shipped_sign_in_stages(app) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            select(Stage.name)
            .join(StageBinding, StageBinding.stage_id == Stage.id)
            .join(Flow, Flow.id == StageBinding.flow_id)
            .where(Flow.slug == "default-authentication-flow")
            .order_by(StageBinding.order, Stage.name)
        )
        return list(rows)


def test_two_blueprints_adding_to_one_existing_flow_are_refused_and_apply_one_after_the_other(
    app, runner, tmp_path
):
    """Each becomes the flow as the database has it plus its own binding: imported together,
    the second would drop the first's binding without a word."""
    first = write(tmp_path, "first.yaml", binding_to_the_shipped_sign_in("first-added"))
    second = write(tmp_path, "second.yaml", binding_to_the_shipped_sign_in("second-added"))
    before = counts(app)
    together = import_files(runner, first, second)
    assert together.exit_code == 2
    assert errors(together) == [
        f"Error: {second}: entries[1] authentik_flows.flowstagebinding (line 8): the flow "
        f"'default-authentication-flow' is also defined in {first} at entries[1] "
        "authentik_flows.flowstagebinding (line 8); one import takes each flow from one file"
    ]
    assert counts(app) == before
    assert import_files(runner, first).exit_code == 0
    assert import_files(runner, second).exit_code == 0
    added = [name for name in shipped_sign_in_stages(app) if name.endswith("-added")]
    assert added == ["first-added", "second-added"]


def test_one_file_named_twice_under_two_spellings_is_read_once(app, runner, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.yaml").symlink_to(tmp_path / "once.yaml")
    once = write(tmp_path, "once.yaml", flow_file("once"))
    result = import_files(
        runner, once, str(tmp_path / "sub" / ".." / "once.yaml"), str(tmp_path / "link.yaml")
    )
    assert result.exit_code == 0, result.output
    created = [line.split() for line in result.stdout.splitlines()]
    assert created == [
        ["create", "stage", "notice"],
        ["create", "policy", "notice-rule"],
        ["create", "flow", "once"],
    ]


def test_a_file_another_applies_is_held_against_the_other_files_named(app, runner, tmp_path):
    """stages.yaml is written first, in a step of its own, because main.yaml applies it: the
    files named beside them are still held against it. main.yaml itself may update it."""
    from tests.http.test_authentik_applied_blueprints import STAGES, applying

    stages = write(tmp_path, "stages.yaml", STAGES)
    rival = write(tmp_path, "rival.yaml", flow_file("shared-holder", message="Rival"))
    main = write(tmp_path, "main.yaml", applying("attrs: {identifiers: {path: stages.yaml}}"))
    for named in ((stages, rival, main), (rival, main)):
        result = refused(app, runner, *named)
        assert errors(result) == [
            f"Error: {rival}: flow.slug: the flow 'shared-holder' is also defined in {stages} "
            "at entries[0] authentik_flows.flow (line 4); one import takes each flow from one "
            "file"
        ]
    assert import_files(runner, stages, main).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Flow.name).where(Flow.slug == "shared-holder")) == "Holder"


def test_a_blueprint_may_update_what_the_one_it_applies_defines(app, runner, tmp_path):
    from tests.http.test_authentik_applied_blueprints import STAGES

    write(tmp_path, "stages.yaml", STAGES)
    renaming = dedent("""\
        version: 1
        metadata: {name: Renaming}
        entries:
        - model: authentik_blueprints.metaapplyblueprint
          attrs: {identifiers: {path: stages.yaml}}
        - model: authentik_flows.flow
          identifiers: {slug: shared-holder}
          attrs: {name: Renamed, designation: authentication}
        """)
    result = import_files(runner, write(tmp_path, "renaming.yaml", renaming))
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Flow.name).where(Flow.slug == "shared-holder")) == "Renamed"
