"""Hand-written authentik blueprints, imported with `idp flows import`, walked over HTTP as
authentik would walk them."""

from textwrap import dedent

from tests.factories import PASSWORD, make_user

ONE_PAGE_SIGN_IN = dedent("""\
    version: 1
    entries:
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: ak-one-page}
      attrs: {name: Sign in, title: Sign in, designation: authentication}
    - model: authentik_stages_password.passwordstage
      id: password
      identifiers: {name: ak-one-page-password}
      attrs: {backends: [authentik.core.auth.InbuiltBackend]}
    - model: authentik_stages_identification.identificationstage
      id: identification
      identifiers: {name: ak-one-page-identification}
      attrs: {user_fields: [username, email], password_stage: !KeyOf password}
    - model: authentik_stages_user_login.userloginstage
      id: login
      identifiers: {name: ak-one-page-login}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf identification}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 100, target: !KeyOf flow, stage: !KeyOf login}
    """)

REPUTATION_GATE = dedent("""\
    version: 1
    entries:
    - model: authentik_flows.flow
      id: flow
      identifiers: {slug: ak-guarded}
      attrs: {name: Sign in, designation: authentication}
    - model: authentik_stages_identification.identificationstage
      id: identification
      identifiers: {name: ak-guarded-identification}
    - model: authentik_stages_deny.denystage
      id: deny
      identifiers: {name: ak-guarded-deny}
      attrs: {deny_message: Too many failed sign-ins}
    - model: authentik_stages_password.passwordstage
      id: password
      identifiers: {name: ak-guarded-password}
    - model: authentik_stages_user_login.userloginstage
      id: login
      identifiers: {name: ak-guarded-login}
    - model: authentik_policies_reputation.reputationpolicy
      id: bad
      identifiers: {name: ak-guarded-bad-reputation}
      attrs: {threshold: '-3', check_ip: false, check_username: true}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 10, target: !KeyOf flow, stage: !KeyOf identification}
    - model: authentik_flows.flowstagebinding
      id: deny-binding
      identifiers: {order: 15, target: !KeyOf flow, stage: !KeyOf deny}
      attrs: {evaluate_on_plan: false, re_evaluate_policies: true}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 20, target: !KeyOf flow, stage: !KeyOf password}
    - model: authentik_flows.flowstagebinding
      identifiers: {order: 100, target: !KeyOf flow, stage: !KeyOf login}
    - model: authentik_policies.policybinding
      identifiers: {order: 0, target: !KeyOf deny-binding, policy: !KeyOf bad}
    """)


def import_text(runner, tmp_path, text):
    path = tmp_path / "blueprint.yaml"
    path.write_text(text)
    result = runner.invoke(args=["flows", "import", "--strict", str(path)])
    assert result.exit_code == 0, result.output
    return result


def test_an_identification_stage_with_a_password_stage_signs_in_with_one_post(
    app, runner, flows, tmp_path
):
    import_text(runner, tmp_path, ONE_PAGE_SIGN_IN)
    with app.app_context():
        make_user("ada")
    slug = "ak-one-page"
    flows.open(slug, next_url="/me")
    assert 'name="password"' in flows.page
    flows.submit(slug, {"uid_field": "ada", "password": "wrong"}, next_url="/me")
    assert "Invalid username or password." in flows.page
    response = flows.submit(slug, {"uid_field": "ada", "password": PASSWORD}, next_url="/me")
    assert (response.status_code, response.headers["Location"]) == (303, "/me")
    assert flows.client.get("/me").status_code == 200


def test_an_identification_stage_with_a_password_stage_never_signs_in_on_a_name_alone(
    app, runner, flows, tmp_path
):
    import_text(runner, tmp_path, ONE_PAGE_SIGN_IN)
    with app.app_context():
        make_user("ada")
    flows.open("ak-one-page")
    flows.submit("ak-one-page", {"uid_field": "ada"})
    assert flows.client.get("/me").status_code == 302


def test_a_deny_stage_behind_a_reputation_policy_stops_only_a_name_with_failures(
    app, runner, flows, tmp_path
):
    import_text(runner, tmp_path, REPUTATION_GATE)
    with app.app_context():
        make_user("ada")
        make_user("bob")
    slug = "ak-guarded"
    for _ in range(3):
        flows.client.get(f"/flow/{slug}/restart")
        flows.sign_in("ada", "wrong", slug=slug)
    flows.client.get(f"/flow/{slug}/restart")
    flows.open(slug)
    flows.submit(slug, {"uid_field": "ada"})
    assert "Too many failed sign-ins" in flows.text
    assert 'name="password"' not in flows.page
    assert flows.client.get("/me").status_code == 302
    flows.client.get(f"/flow/{slug}/restart")
    flows.sign_in("bob", PASSWORD, slug=slug)
    assert flows.client.get("/me").status_code == 200
