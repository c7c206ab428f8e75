"""Applications in Gatehouse's own flow files: import by slug, dry run, secrets never in a
file, export then import round trips; and what an imported application then answers."""

import pytest
import yaml
from sqlalchemy import func, select

from idp.core.extensions import db
from idp.models import Application, Flow, PolicyBinding, Provider
from idp.providers.oauth2 import credentials
from tests.conftest import FlowDriver
from tests.factories import PASSWORD, make_group, make_user

IMPLICIT = "default-provider-authorization-implicit-consent"
APPLICATIONS = """
version: 1
applications:
  - slug: wiki
    name: Wiki
    launch_url: https://wiki.example.test/
    description: The team's wiki
    policy_engine_mode: any
    provider:
      type: proxy
      options: {external_host: "https://wiki.example.test"}
    policies:
      - {group: staff, order: 10}
  - slug: grafana
    name: Grafana
    provider:
      type: oauth2
      options:
        client_type: confidential
        redirect_uris: ["https://grafana.example.test/login/generic_oauth"]
        signing_algorithm: RS256
      authorization_flow: default-provider-authorization-implicit-consent
      invalidation_flow: default-invalidation-flow
    policies:
      - {user: alice, order: 10}
"""


@pytest.fixture
def app_settings():
    return {"ENVIRON": {"IDP_TRUSTED_PROXIES": "127.0.0.1"}}


@pytest.fixture
def people(app):
    with app.app_context():
        staff = make_group("staff")
        make_user("alice", groups=[staff])
        make_user("otto")


def write(tmp_path, text, name="apps.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def secret_line(output: str, slug: str) -> str:
    lines = [line for line in output.splitlines() if line.strip().startswith(f"{slug} client_")]
    assert len(lines) == 1, output
    return lines[0].split(": ", 1)[1]


def provider_of(app, slug):
    with app.app_context():
        return db.session.execute(
            select(Provider.type, Provider.options, Provider.client_id, Provider.client_secret_hash)
            .join(Application)
            .where(Application.slug == slug)
        ).one()


def test_importing_applications_creates_them_and_shows_a_new_client_secret_once(
    app, runner, people, tmp_path
):
    result = runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS)])
    assert result.exit_code == 0, result.output
    assert "create    application wiki" in result.output
    assert "create    application grafana" in result.output
    secret = secret_line(result.output, "grafana")
    kind, options, client_id, secret_hash = provider_of(app, "grafana")
    assert kind == "oauth2" and options["signing_algorithm"] == "RS256"
    assert client_id and credentials.check_secret(secret_hash, secret)
    assert provider_of(app, "wiki")[0] == "proxy"


def test_reimporting_changes_nothing_and_keeps_the_secret(app, runner, people, tmp_path):
    path = write(tmp_path, APPLICATIONS)
    runner.invoke(args=["flows", "import", path])
    before = provider_of(app, "grafana")
    result = runner.invoke(args=["flows", "import", path])
    assert result.exit_code == 0, result.output
    assert "unchanged application grafana" in result.output
    assert "create" not in result.output and "update" not in result.output
    assert "client_secret" not in result.output
    assert provider_of(app, "grafana") == before


def test_import_updates_an_application_in_place_and_keeps_its_secret(app, runner, people, tmp_path):
    runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS)])
    before = provider_of(app, "grafana")
    changed = APPLICATIONS.replace("signing_algorithm: RS256", "signing_algorithm: ES256").replace(
        "{group: staff, order: 10}", "{group: staff, order: 10, negate: true}"
    )
    result = runner.invoke(args=["flows", "import", write(tmp_path, changed, "changed.yaml")])
    assert "update    application grafana" in result.output
    assert "update    application wiki" in result.output
    assert "client_secret" not in result.output
    after = provider_of(app, "grafana")
    assert after.options["signing_algorithm"] == "ES256"
    assert (after.client_id, after.client_secret_hash) == (
        before.client_id,
        before.client_secret_hash,
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 2
        assert db.session.scalar(
            select(PolicyBinding.negate).where(PolicyBinding.group_id.is_not(None))
        )


def test_dry_run_lists_applications_and_writes_nothing_nor_shows_a_secret(
    app, runner, people, tmp_path
):
    result = runner.invoke(args=["flows", "import", "--dry-run", write(tmp_path, APPLICATIONS)])
    assert result.exit_code == 0, result.output
    assert "create    application grafana" in result.output
    assert "client_secret" not in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("type: proxy", "type: saml"), "applications[0].provider.type: no provider type 'saml'"),
        (
            ('external_host: "https://wiki.example.test"', "external_host: wiki"),
            "applications[0].provider.options.external_host: must be an address",
        ),
        (
            ("signing_algorithm: RS256", "signing_algorithm: HS256"),
            "applications[1].provider.options.signing_algorithm",
        ),
        (
            ("implicit-consent", "nothing-here"),
            "applications[1].provider.authorization_flow: no authorization flow named",
        ),
        (("{user: alice, order: 10}", "{user: nobody}"), "no user named 'nobody'"),
        (("slug: wiki", "slug: Wiki!"), "applications[0].slug"),
        (("    name: Wiki\n", ""), "applications[0].name: is required"),
    ],
)
def test_a_bad_application_is_named_and_nothing_is_written(
    app, runner, people, tmp_path, change, message
):
    result = runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS.replace(*change))])
    assert result.exit_code == 2
    assert message in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_export_never_writes_a_secret_and_round_trips(app, runner, people, tmp_path):
    runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS)])
    exported = tmp_path / "grafana.yaml"
    result = runner.invoke(args=["apps", "export", "grafana", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    text = exported.read_text()
    assert "secret" not in text
    document = yaml.safe_load(text)
    provider = document["applications"][0]["provider"]
    assert provider["client_id"] == provider_of(app, "grafana").client_id
    assert provider["invalidation_flow"] == "default-invalidation-flow"
    # Importing the export over itself changes nothing.
    result = runner.invoke(args=["flows", "import", str(exported)])
    assert "unchanged application grafana" in result.output, result.output
    # Into an empty instance: the same application, with the same client_id and a new secret.
    runner.invoke(args=["apps", "delete", "grafana"])
    result = runner.invoke(args=["flows", "import", str(exported)])
    assert "create    application grafana" in result.output
    assert secret_line(result.output, "grafana")
    again = runner.invoke(args=["apps", "export", "grafana"])
    assert again.output == text


def test_export_of_an_unknown_application_fails_cleanly(runner):
    result = runner.invoke(args=["apps", "export", "nope"])
    assert result.exit_code == 2
    assert "no application with the slug 'nope'" in result.output


def test_an_imported_proxy_application_answers_auth_requests(app, client, runner, people, tmp_path):
    runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS)])
    headers = {"X-Original-URL": "https://wiki.example.test/page", "X-Original-Method": "GET"}
    assert client.get("/api/authz/auth-request", headers=headers).status_code == 401
    FlowDriver(client).sign_in("alice", PASSWORD)
    answer = client.get("/api/authz/auth-request", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["Remote-User"] == "alice"


def test_an_imported_oauth2_application_serves_its_discovery_document(
    app, client, runner, people, tmp_path
):
    runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS)])
    answer = client.get("/application/o/grafana/.well-known/openid-configuration")
    assert answer.status_code == 200
    assert answer.json["issuer"].endswith("/application/o/grafana/")
    assert "RS256" in answer.json["id_token_signing_alg_values_supported"]


BLUEPRINT = """
version: 1
entries:
  - model: authentik_providers_proxy.proxyprovider
    id: wiki-provider
    identifiers: {name: Wiki}
    attrs:
      mode: forward_single
      external_host: https://wiki.example.test
      authorization_flow: !Find
        [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
  - model: authentik_core.application
    id: wiki
    identifiers: {slug: wiki}
    attrs: {name: Wiki, provider: !KeyOf wiki-provider}
  - model: authentik_policies.policybinding
    identifiers:
      order: 0
      target: !KeyOf wiki
      group: !Find [authentik_core.group, [name, staff]]
  - model: authentik_providers_oauth2.oauth2provider
    id: grafana-provider
    identifiers: {name: Grafana}
    attrs:
      client_type: confidential
      client_id: grafana-from-authentik
      client_secret: the-old-secret
      redirect_uris: "https://grafana.example.test/login/generic_oauth"
      authorization_flow: !Find
        [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
  - model: authentik_core.application
    identifiers: {slug: grafana}
    attrs: {name: Grafana, provider: !KeyOf grafana-provider}
"""


def test_an_authentik_blueprints_applications_import_and_answer(
    app, client, runner, people, tmp_path
):
    result = runner.invoke(args=["flows", "import", write(tmp_path, BLUEPRINT, "bp.yaml")])
    assert result.exit_code == 0, result.output
    assert "create    application wiki" in result.output
    assert "the-old-secret" not in result.output
    assert "client_secret (secrets are never imported" in result.output
    secret = secret_line(result.output, "grafana")
    _kind, _options, client_id, secret_hash = provider_of(app, "grafana")
    assert client_id == "grafana-from-authentik"
    assert credentials.check_secret(secret_hash, secret)
    discovery = client.get("/application/o/grafana/.well-known/openid-configuration")
    assert discovery.status_code == 200
    headers = {"X-Original-URL": "https://wiki.example.test/", "X-Original-Method": "GET"}
    FlowDriver(client).sign_in("otto", PASSWORD)
    assert client.get("/api/authz/auth-request", headers=headers).status_code == 403


def test_an_authentik_proxy_application_lets_its_group_through(
    app, client, runner, people, tmp_path
):
    runner.invoke(args=["flows", "import", write(tmp_path, BLUEPRINT, "bp.yaml")])
    headers = {"X-Original-URL": "https://wiki.example.test/", "X-Original-Method": "GET"}
    assert client.get("/api/authz/auth-request", headers=headers).status_code == 401
    FlowDriver(client).sign_in("alice", PASSWORD)
    answer = client.get("/api/authz/auth-request", headers=headers)
    assert answer.status_code == 200 and answer.headers["Remote-User"] == "alice"


NEW_AUTHORIZATION_FLOW = """
version: 1
flow:
  slug: team-consent
  name: Team consent
  designation: authorization
  stages: []
"""


def test_a_provider_may_name_an_authorization_flow_of_another_file_of_the_same_import(
    app, runner, people, tmp_path
):
    apps = write(
        tmp_path,
        APPLICATIONS.replace(f"authorization_flow: {IMPLICIT}", "authorization_flow: team-consent"),
    )
    flow = write(tmp_path, NEW_AUTHORIZATION_FLOW, "flow.yaml")
    result = runner.invoke(args=["flows", "import", apps, flow])
    assert result.exit_code == 0, result.output
    with app.app_context():
        slug = db.session.scalar(
            select(Flow.slug)
            .join(Provider, Provider.authorization_flow_id == Flow.id)
            .join(Application)
            .where(Application.slug == "grafana")
        )
    assert slug == "team-consent"


def test_a_provider_naming_a_flow_of_another_designation_is_refused(app, runner, people, tmp_path):
    apps = write(
        tmp_path,
        APPLICATIONS.replace(f"authorization_flow: {IMPLICIT}", "authorization_flow: team-consent"),
    )
    flow = write(
        tmp_path,
        NEW_AUTHORIZATION_FLOW.replace("designation: authorization", "designation: authentication"),
        "flow.yaml",
    )
    result = runner.invoke(args=["flows", "import", apps, flow])
    assert result.exit_code == 2
    assert "'team-consent' is not an authorization flow" in result.output


def test_reimporting_an_authentik_blueprint_changes_nothing_and_makes_no_new_secret(
    app, runner, people, tmp_path
):
    path = write(tmp_path, BLUEPRINT, "bp.yaml")
    runner.invoke(args=["flows", "import", path])
    before = provider_of(app, "grafana"), provider_of(app, "wiki")
    result = runner.invoke(args=["flows", "import", path])
    assert result.exit_code == 0, result.output
    assert "unchanged application grafana" in result.output
    assert "unchanged application wiki" in result.output
    assert "grafana client_secret" not in result.output
    assert (provider_of(app, "grafana"), provider_of(app, "wiki")) == before


def test_two_applications_of_one_file_with_the_same_client_id_are_named(
    app, runner, people, tmp_path
):
    """The database would refuse the second with a bare constraint error."""
    twice = APPLICATIONS.replace(
        "      type: oauth2\n", "      type: oauth2\n      client_id: shared-client\n"
    )
    second = twice[twice.index("  - slug: grafana") :].replace("slug: grafana", "slug: grafana-2")
    result = runner.invoke(args=["flows", "import", write(tmp_path, twice + second)])
    assert result.exit_code == 2
    assert "applications[2].provider.client_id: 'shared-client' is defined twice" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 0


def test_an_application_for_an_address_another_one_claims_is_refused(app, runner, people, tmp_path):
    args = ["apps", "create", "intranet", "--name", "Intranet", "--proxy"]
    assert (
        runner.invoke(args=[*args, "--external-host", "https://wiki.example.test"]).exit_code == 0
    )

    result = runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS)])

    assert result.exit_code == 2
    assert (
        "applications[0].provider.options: wiki.example.test is already the address of "
        "application 'intranet'" in result.output
    )
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 1


def test_two_applications_of_one_file_for_one_address_are_named(app, runner, people, tmp_path):
    wiki = APPLICATIONS[
        APPLICATIONS.index("  - slug: wiki") : APPLICATIONS.index("  - slug: grafana")
    ]
    twice = APPLICATIONS + wiki.replace("slug: wiki", "slug: intranet")
    result = runner.invoke(args=["flows", "import", write(tmp_path, twice)])
    assert result.exit_code == 2
    assert "applications[2].provider.options: 'wiki.example.test' is defined twice" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Application)) == 0
