"""Importing a changed authentik blueprint again converges on the file: the flow equals a
fresh import of the new version, and walks as the new version says."""

from textwrap import dedent

import yaml

from tests.factories import PASSWORD

VERSION_1 = dedent("""\
    version: 1
    metadata: {name: PREFIX sign-up}
    entries:
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: PREFIX-signup}
      attrs:
        name: Sign up
        title: Join
        designation: enrollment
        authentication: require_unauthenticated
    - model: authentik_stages_prompt.prompt
      id: username
      identifiers: {name: PREFIX-field-username}
      attrs: {field_key: username, label: Username, type: username, order: 0}
    - model: authentik_stages_prompt.prompt
      id: email
      identifiers: {name: PREFIX-field-email}
      attrs: {field_key: email, label: Email, type: email, order: 1}
    - model: authentik_stages_prompt.prompt
      id: password
      identifiers: {name: PREFIX-field-password}
      attrs: {field_key: password, label: Password, type: password, order: 2}
    - model: authentik_stages_prompt.promptstage
      id: prompt
      identifiers: {name: PREFIX-prompt}
      attrs: {fields: [!KeyOf username, !KeyOf email, !KeyOf password]}
    - model: authentik_stages_deny.denystage
      id: closed
      identifiers: {name: PREFIX-closed}
      attrs: {deny_message: Closed for now}
    - model: authentik_policies_dummy.dummypolicy
      id: never
      identifiers: {name: PREFIX-never}
      attrs: {result: false}
    - model: authentik_stages_user_write.userwritestage
      id: write
      identifiers: {name: PREFIX-write}
      attrs: {user_creation_mode: always_create, create_users_as_inactive: true}
    - model: authentik_stages_user_login.userloginstage
      id: login
      identifiers: {name: PREFIX-login}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf prompt}
    - model: authentik_flows.flowstagebinding
      id: closed-binding
      identifiers: {order: 15, target: !KeyOf flow, stage: !KeyOf closed}
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf closed-binding, policy: !KeyOf never}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 20, target: !KeyOf flow, stage: !KeyOf write}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 100, target: !KeyOf flow, stage: !KeyOf login}
    """)

# The prompt moves to order 5, asks a name instead of an email, the deny stage and its policy
# are gone, users are no longer created inactive, and the title changes.
VERSION_2 = (
    VERSION_1.replace("title: Join\n", "title: Join us\n")
    .replace(
        "identifiers: {name: PREFIX-field-email}\n  attrs: {field_key: email, label: Email, "
        "type: email, order: 1}",
        "identifiers: {name: PREFIX-field-name}\n  attrs: {field_key: name, label: Name, "
        "type: text, order: 1}",
    )
    .replace(", create_users_as_inactive: true", "")
    .replace(
        "{order: 10, target: !KeyOf flow, stage: !KeyOf prompt}",
        "{order: 5, target: !KeyOf flow, stage: !KeyOf prompt}",
    )
)
VERSION_2 = (
    VERSION_2[: VERSION_2.index("- model: authentik_stages_deny.denystage")]
    + VERSION_2[VERSION_2.index("- model: authentik_stages_user_write.userwritestage") :]
)
VERSION_2 = VERSION_2.replace(
    dedent("""\
    - model: authentik_flows.flowstagebinding
      id: closed-binding
      identifiers: {order: 15, target: !KeyOf flow, stage: !KeyOf closed}
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf closed-binding, policy: !KeyOf never}
    """),
    "",
)


def import_text(runner, tmp_path, text, prefix):
    path = tmp_path / f"{prefix}.yaml"
    path.write_text(text.replace("PREFIX", prefix))
    result = runner.invoke(args=["flows", "import", "--strict", str(path)])
    assert result.exit_code == 0, result.output
    return result


def exported(runner, slug, prefix) -> dict:
    result = runner.invoke(args=["flows", "export", slug])
    assert result.exit_code == 0, result.output
    return yaml.safe_load(result.stdout.replace(prefix, "PREFIX"))


def test_the_second_version_is_written_as_the_file_says(tmp_path):
    assert "create_users_as_inactive" not in VERSION_2
    assert "denystage" not in VERSION_2 and "closed-binding" not in VERSION_2
    assert "{order: 5, target" in VERSION_2 and "field_key: name" in VERSION_2


def test_a_changed_blueprint_imported_again_equals_a_fresh_import_of_it(app, runner, tmp_path):
    import_text(runner, tmp_path, VERSION_1, "conv")
    second = import_text(runner, tmp_path, VERSION_2, "conv")
    import_text(runner, tmp_path, VERSION_2, "fresh")
    assert exported(runner, "conv-signup", "conv") == exported(runner, "fresh-signup", "fresh")
    assert "unbound: " in second.stderr and "stage conv-closed (order 15)" in second.stderr
    assert "stage conv-prompt moves from order 10 to 5" in second.stderr


def test_the_re_imported_flow_asks_once_and_walks_as_the_new_version(app, runner, flows, tmp_path):
    import_text(runner, tmp_path, VERSION_1, "walk")
    flows.open("walk-signup")
    assert "Closed for now" not in flows.text  # its dummy policy never lets the deny stage run
    import_text(runner, tmp_path, VERSION_2, "walk")
    flows.client.get("/flow/walk-signup/restart")
    flows.open("walk-signup", next_url="/me")
    assert 'name="name"' in flows.page and 'name="email"' not in flows.page
    response = flows.submit(
        "walk-signup",
        {"username": "newcomer", "name": "New Comer", "password": PASSWORD},
        next_url="/me",
    )
    # One prompt: the answer leads straight out, signed in as an active user.
    assert (response.status_code, response.headers["Location"]) == (303, "/me")
    assert flows.client.get("/me").status_code == 200
