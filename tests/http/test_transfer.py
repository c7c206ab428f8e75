import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Flow, Policy, Stage, StageBinding
from tests.factories import PASSWORD, make_group, make_user

DESIGN_EXAMPLE = """
version: 1
flow:
  slug: guarded-login
  name: Guarded login
  title: Welcome
  designation: authentication
  authentication: none
  denied_action: message_continue
  policy_engine_mode: any
  policies: []
  stages:
    - {stage: guarded-identification, order: 10}
    - {stage: default-authentication-password, order: 20}
    - stage: guarded-admin-notice
      order: 50
      evaluate_on_plan: false
      re_evaluate_policies: true
      policy_engine_mode: any
      policies:
        - {policy: only-admins, order: 0, negate: false, enabled: true}
        - {group: staff}
        - {user: alice}
    - {stage: default-authentication-login, order: 100}
stages:
  - {name: guarded-identification, type: identification, options: {user_fields: [username, email]}}
  - name: guarded-admin-notice
    type: deny
    options: {message: Admins sign in at the admin entrance}
policies:
  - {name: only-admins, type: dummy, options: {result: false}}
"""


def all_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_keys(item)


def write(tmp_path, text, name="flow.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.fixture
def people(app):
    with app.app_context():
        staff = make_group("staff")
        make_user("alice")
        make_user("sid", groups=[staff])
        make_user("olga")


def counts(app):
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Flow, Stage, Policy, StageBinding)
        )


def test_importing_the_design_example_builds_a_working_flow(app, runner, flows, people, tmp_path):
    result = runner.invoke(args=["flows", "import", write(tmp_path, DESIGN_EXAMPLE)])
    assert result.exit_code == 0, result.output
    assert "create    flow   guarded-login" in result.output
    for name, stopped in (("alice", True), ("sid", True), ("olga", False)):
        flows.client.get("/flow/guarded-login/restart")
        flows.sign_in(name, PASSWORD, slug="guarded-login")
        assert ("Admins sign in at the admin entrance" in flows.text) is stopped


def test_import_is_idempotent(app, runner, people, tmp_path):
    path = write(tmp_path, DESIGN_EXAMPLE)
    runner.invoke(args=["flows", "import", path])
    before = counts(app)
    result = runner.invoke(args=["flows", "import", path])
    assert result.exit_code == 0
    assert "create" not in result.output and "update" not in result.output
    assert counts(app) == before


def test_reimport_keeps_plans_in_progress(app, runner, flows, people, tmp_path):
    path = write(tmp_path, DESIGN_EXAMPLE)
    runner.invoke(args=["flows", "import", path])
    flows.open("guarded-login")
    flows.submit("guarded-login", {"uid_field": "olga"})
    runner.invoke(args=["flows", "import", path])
    flows.open("guarded-login")
    assert flows.stage == "password"


def test_import_updates_in_place(app, runner, people, tmp_path):
    runner.invoke(args=["flows", "import", write(tmp_path, DESIGN_EXAMPLE)])
    changed = DESIGN_EXAMPLE.replace("title: Welcome", "title: Hello").replace(
        "message: Admins sign in", "message: Staff sign in"
    )
    result = runner.invoke(args=["flows", "import", write(tmp_path, changed, "changed.yaml")])
    assert "update    stage  guarded-admin-notice" in result.output
    assert "update    flow   guarded-login" in result.output
    with app.app_context():
        assert db.session.scalar(select(Flow.title).where(Flow.slug == "guarded-login")) == "Hello"


def test_dry_run_shows_changes_and_writes_nothing(app, runner, people, tmp_path):
    before = counts(app)
    result = runner.invoke(args=["flows", "import", "--dry-run", write(tmp_path, DESIGN_EXAMPLE)])
    assert result.exit_code == 0
    assert "create    flow   guarded-login" in result.output
    assert "Dry run: nothing was written." in result.output
    assert counts(app) == before


def test_export_then_import_into_an_empty_instance_then_export_again_is_identical(
    app, runner, people, tmp_path
):
    from tests.conftest import make_test_app

    runner.invoke(args=["flows", "import", write(tmp_path, DESIGN_EXAMPLE)])
    first = runner.invoke(args=["flows", "export", "guarded-login"]).output
    exported = write(tmp_path, first, "exported.yaml")
    other = make_test_app(tmp_path / "other")
    with other.app_context():
        db.create_all()
        staff = make_group("staff")
        make_user("alice")
        make_user("sid", groups=[staff])
    other_runner = other.test_cli_runner()
    result = other_runner.invoke(args=["flows", "import", exported])
    assert result.exit_code == 0, result.output
    second = other_runner.invoke(args=["flows", "export", "guarded-login"]).output
    assert first == second
    document = yaml.safe_load(first)
    assert {stage["name"] for stage in document["stages"]} >= {"default-authentication-password"}
    assert not any(key == "id" or key.endswith("_id") for key in all_keys(document))


def test_every_shipped_flow_round_trips(app, runner, tmp_path):
    for path in sorted(Path(__file__).resolve().parents[2].joinpath("flows").glob("*.yaml")):
        slug = yaml.safe_load(path.read_text())["flow"]["slug"]
        first = runner.invoke(args=["flows", "export", slug]).output
        runner.invoke(args=["flows", "import", write(tmp_path, first, f"{slug}.yaml")])
        assert runner.invoke(args=["flows", "export", slug]).output == first


def test_export_to_a_file(app, runner, tmp_path):
    target = tmp_path / "out.yaml"
    result = runner.invoke(args=["flows", "export", "default-invalidation-flow", "-o", str(target)])
    assert result.exit_code == 0
    assert yaml.safe_load(target.read_text())["flow"]["designation"] == "invalidation"


def test_json_files_are_read_too(app, runner, tmp_path):
    document = yaml.safe_load(DESIGN_EXAMPLE)
    document["flow"]["stages"][2]["policies"] = [{"policy": "only-admins"}]
    result = runner.invoke(
        args=["flows", "import", write(tmp_path, json.dumps(document), "f.json")]
    )
    assert result.exit_code == 0, result.output


BAD_FILES = [
    ("flow: [", "not valid YAML (line"),
    ("version: 1\nflow: {slug: x\x00}", "not valid YAML: special characters are not allowed"),
    ('version: 1\nflow: {slug: "abc\\n", name: x, designation: authentication}', "flow.slug"),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication}\n"
        "stages: [{name: s, type: user_login, options: {session_duration: 99999999999d}}]",
        "longer than 100 years",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication}\n"
        "applications: [{slug: wiki, name: Wiki, launch_url: 'javascript:alert(1)',"
        " provider: {type: proxy, options: {external_host: 'https://wiki.example.test'}}}]",
        "applications[0].launch_url: must start with https://, http:// or /",
    ),
    # Half of a UTF-16 pair: stored, it would stop every page that shows it.
    (
        'version: 1\nflow: {slug: x, name: "\\udc80", designation: authentication}',
        "not valid YAML (line 2): a \\u escape that is no character",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication}\n"
        'stages: [{name: s, type: deny, options: {message: "\\ud800x"}}]',
        "a \\u escape that is no character",
    ),
    # YAML's keys are unique; PyYAML would keep the last and drop the first without a word.
    (
        "version: 1\nflow: {slug: x, name: a, name: b, designation: authentication}",
        "not valid YAML (line 2): the key 'name' is given twice in one mapping",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication}\nversion: 1\n",
        "not valid YAML (line 3): the key 'version' is given twice",
    ),
    (
        "version: 1\nentries:\n  - model: authentik_flows.flow\n    identifiers: {slug: x}\n"
        "    attrs: {name: a, designation: authentication, name: b}\n",
        "not valid YAML (line 5): the key 'name' is given twice",
    ),
    (  # a tag as a key: refused as before, not a traceback
        "version: 1\nentries:\n  - model: authentik_flows.flow\n    identifiers: {slug: x}\n"
        "    attrs: {name: a, !Env X: b}\n",
        "not valid YAML (line 5): found unhashable key",
    ),
    ("- a\n- b\n", "the document must be a mapping"),
    ("version: 2\nflow: {slug: x, name: x, designation: authentication}", "version: must be 1"),
    ("version: 1\nflow: {slug: Bad Slug, name: x, designation: authentication}", "flow.slug"),
    ("version: 1\nflow: {slug: x, name: x, designation: party}", "flow.designation: must be"),
    ("version: 1\nflow: {slug: x, designation: authentication}", "flow.name: is required"),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication, colour: red}",
        "unknown key 'colour'",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication,"
        " stages: [{stage: nope}]}",
        "flow.stages[0].stage: no stage named 'nope'",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication,"
        " policies: [{group: staf}]}",
        "flow.policies[0]: no group named 'staf'",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication, policies: "
        "[{group: staff, user: alice}]}",
        "exactly one of policy, group or user",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication, policies: "
        "[{user: alice, timeout: 0}]}",
        "timeout: must be between 1 and 300",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication}\n"
        "stages: [{name: s, type: teleport}]",
        "stages[0].type: no stage type 'teleport'",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication}\n"
        "stages: [{name: s, type: identification, options: {user_fields: [phone]}}]",
        "stages[0].options.user_fields[0]: must be one of",
    ),
    (
        "version: 1\nflow: {slug: x, name: x, designation: authentication}\n"
        "policies: [{name: p, type: dummy, options: {result: maybe}}]",
        "policies[0].options.result: must be true or false",
    ),
    ("version: 1\nentries: []", "authentik blueprint"),
]


@pytest.mark.parametrize(("text", "message"), BAD_FILES)
def test_bad_files_are_refused_with_their_place_and_nothing_is_written(
    app, runner, people, tmp_path, text, message
):
    before = counts(app)
    result = runner.invoke(args=["flows", "import", write(tmp_path, text)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert counts(app) == before


def test_every_problem_is_listed_at_once(app, runner, tmp_path):
    text = (
        "version: 1\nflow: {slug: x, name: x, designation: nope, stages: [{stage: a}, {stage: b}]}"
    )
    result = runner.invoke(args=["flows", "import", write(tmp_path, text)])
    assert "flow.designation" in result.output


def test_one_bad_file_among_several_writes_nothing(app, runner, people, tmp_path):
    good = write(tmp_path, DESIGN_EXAMPLE, "good.yaml")
    bad = write(tmp_path, "version: 1\nflow: {slug: y, name: y, designation: nope}", "bad.yaml")
    before = counts(app)
    result = runner.invoke(args=["flows", "import", good, bad])
    assert result.exit_code == 2
    assert counts(app) == before


def test_a_missing_file_is_a_clean_error(runner, tmp_path):
    result = runner.invoke(args=["flows", "import", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "cannot be read" in result.output


def test_a_binary_file_is_a_clean_error(runner, tmp_path):
    path = tmp_path / "binary.yaml"
    path.write_bytes(b"\xff\xfe\x00garbage")
    result = runner.invoke(args=["flows", "import", str(path)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.output


def test_a_json_file_with_half_a_utf16_pair_is_refused(app, runner, tmp_path):
    text = (
        '{"version": 1, "flow": {"slug": "x", "name": "\\udc80", "designation": "authentication"}}'
    )
    result = runner.invoke(args=["flows", "import", write(tmp_path, text, "flow.json")])
    assert result.exit_code == 2
    assert "a \\u escape that is no character" in result.output


@pytest.mark.parametrize(("name", "text"), [("deep.json", "[" * 5000), ("deep.yaml", "[" * 5000)])
def test_a_deeply_nested_file_is_a_clean_error(runner, tmp_path, name, text):
    result = runner.invoke(args=["flows", "import", write(tmp_path, text, name)])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


CAPTCHA_FLOW = """
version: 1
flow:
  slug: guarded-signup
  name: Guarded sign-up
  designation: enrollment
  stages:
    - {stage: guarded-captcha, order: 10}
stages:
  - name: guarded-captcha
    type: captcha
    options:
      mode: provider
      provider: turnstile
      site_key: public-site-key
      secret_key: SECRET
"""


def saved_captcha_secret(app) -> str:
    with app.app_context():
        stage = db.session.scalar(select(Stage).where(Stage.name == "guarded-captcha"))
        return stage.options["secret_key"]


def test_export_leaves_credentials_out_and_reimport_keeps_the_saved_one(app, runner, tmp_path):
    secret = "provider-secret-that-must-not-leak"
    runner.invoke(args=["flows", "import", write(tmp_path, CAPTCHA_FLOW.replace("SECRET", secret))])
    exported = runner.invoke(args=["flows", "export", "guarded-signup"]).output
    assert secret not in exported
    options = yaml.safe_load(exported)["stages"][0]["options"]
    assert "secret_key" not in options
    assert options["site_key"] == "public-site-key"

    result = runner.invoke(args=["flows", "import", write(tmp_path, exported, "exported.yaml")])
    assert result.exit_code == 0, result.output
    assert "unchanged stage  guarded-captcha" in result.output
    assert saved_captcha_secret(app) == secret


def test_a_file_with_a_new_credential_replaces_the_saved_one(app, runner, tmp_path):
    runner.invoke(args=["flows", "import", write(tmp_path, CAPTCHA_FLOW.replace("SECRET", "old"))])
    changed = write(tmp_path, CAPTCHA_FLOW.replace("SECRET", "new"), "changed.yaml")
    assert runner.invoke(args=["flows", "import", changed]).exit_code == 0
    assert saved_captcha_secret(app) == "new"


def test_an_exported_file_without_its_credential_is_refused_where_none_is_saved(
    app, runner, tmp_path
):
    without_secret = CAPTCHA_FLOW.replace("      secret_key: SECRET\n", "")
    result = runner.invoke(args=["flows", "import", write(tmp_path, without_secret)])
    assert result.exit_code == 2
    assert "stages[0].options.secret_key: is required in provider mode" in result.output
    with app.app_context():
        assert (
            db.session.scalar(
                select(func.count()).select_from(Stage).where(Stage.name == "guarded-captcha")
            )
            == 0
        )


def test_a_flow_may_not_take_a_slug_gatehouse_uses_itself(app, runner, tmp_path):
    document = DESIGN_EXAMPLE.replace("slug: guarded-login", "slug: email")
    result = runner.invoke(args=["flows", "import", write(tmp_path, document)])
    assert result.exit_code == 2
    assert "flow.slug: 'email' is reserved for Gatehouse's own addresses under /flow/" in (
        result.output
    )


def test_a_json_file_naming_a_key_twice_is_refused(app, runner, tmp_path):
    text = '{"version": 1, "flow": {"slug": "x", "name": "a", "name": "b", "designation": "x"}}'
    result = runner.invoke(args=["flows", "import", write(tmp_path, text, "flow.json")])
    assert result.exit_code == 2
    assert "not valid JSON: the key 'name' is given twice in one mapping" in result.output


def test_a_yaml_merge_key_may_still_be_overridden(app, runner, tmp_path):
    text = (
        "version: 1\nflow:\n  <<: {slug: merged, name: From the merge}\n"
        "  name: Given here\n  designation: authentication\n"
    )
    result = runner.invoke(args=["flows", "import", "--dry-run", write(tmp_path, text)])
    assert result.exit_code == 0, result.output
    assert "create    flow   merged" in result.output
