"""The authentik reader on applications and their providers: what maps, what is named, and an
application left out when a gate or its provider cannot be mapped. No database."""

from tests.unit.test_authentik_blueprint import FakeLookup, problems_of, translate

IMPLICIT = "default-provider-authorization-implicit-consent"


class AppLookup(FakeLookup):
    def __init__(self, applications=None, **kwargs):
        kwargs.setdefault("flows", {IMPLICIT: {}, "default-invalidation-flow": {}})
        kwargs.setdefault("groups", ("staff",))
        super().__init__(**kwargs)
        self.applications = applications or {}

    def application(self, slug):
        return self.applications.get(slug)


OAUTH2 = """
- model: authentik_providers_oauth2.oauth2provider
  id: grafana-provider
  identifiers: {name: Grafana}
  attrs:
    client_type: confidential
    client_id: grafana-client
    client_secret: do-not-import-me
    redirect_uris:
      - {matching_mode: strict, url: "https://grafana.example.test/login/generic_oauth"}
    signing_key: !Find
      [authentik_crypto.certificatekeypair, [name, authentik Self-signed Certificate]]
    authorization_flow: !Find
      [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
    invalidation_flow: !Find [authentik_flows.flow, [slug, default-invalidation-flow]]
    access_token_validity: minutes=5
    property_mappings: [!Find [authentik_providers_oauth2.scopemapping, [scope_name, openid]]]
- model: authentik_core.application
  identifiers: {slug: grafana}
  attrs:
    name: Grafana
    meta_launch_url: https://grafana.example.test/
    policy_engine_mode: all
    provider: !KeyOf grafana-provider
- model: authentik_policies.policybinding
  identifiers:
    order: 10
    target: !Find [authentik_core.application, [slug, grafana]]
    group: !Find [authentik_core.group, [name, staff]]
"""


def application_of(translation, slug):
    for document in translation.documents:
        for application in document.applications:
            if application.slug == slug:
                return application
    return None


def skipped_text(translation) -> str:
    return "\n".join(translation.skipped)


def test_an_oauth2_application_maps_with_its_client_id_flows_and_group_binding():
    translation = translate(OAUTH2, AppLookup())
    application = application_of(translation, "grafana")
    assert application is not None, translation.skipped
    assert (application.name, application.launch_url) == (
        "Grafana",
        "https://grafana.example.test/",
    )
    assert application.policy_engine_mode == "all"
    provider = application.provider
    assert provider.type == "oauth2" and provider.client_id == "grafana-client"
    assert provider.options["redirect_uris"] == ["https://grafana.example.test/login/generic_oauth"]
    assert provider.options["signing_algorithm"] == "RS256"
    assert provider.options["access_token_lifetime"] == "5m"
    assert provider.authorization_flow == IMPLICIT
    assert provider.invalidation_flow == "default-invalidation-flow"
    assert [binding.group for binding in application.policies] == ["staff"]


def test_the_client_secret_is_named_but_never_imported_nor_shown():
    translation = translate(OAUTH2, AppLookup())
    text = skipped_text(translation)
    assert "client_secret" in text and "do-not-import-me" not in text
    assert "do-not-import-me" not in repr(translation.documents)


def test_the_older_newline_separated_redirect_uris_are_read():
    entries = OAUTH2.replace(
        """redirect_uris:
      - {matching_mode: strict, url: "https://grafana.example.test/login/generic_oauth"}""",
        'redirect_uris: "https://a.example.test/cb\\nhttps://b.example.test/cb"',
    )
    provider = application_of(translate(entries, AppLookup()), "grafana").provider
    assert provider.options["redirect_uris"] == [
        "https://a.example.test/cb",
        "https://b.example.test/cb",
    ]


def test_a_redirect_uri_without_url_refuses_the_file_naming_its_place_and_keys():
    # As in a public homelab blueprint: `- uri: ...`, which authentik's API refuses too.
    entries = OAUTH2.replace("{matching_mode: strict, url:", "{uri:")
    problems = problems_of(entries, AppLookup())
    assert problems == [
        "bp.yaml: entries[0] authentik_providers_oauth2.oauth2provider (line 4): "
        "redirect_uris[0] has uri; authentik wants {matching_mode, url}"
    ]


def test_a_regex_redirect_uri_leaves_the_provider_and_its_application_out():
    entries = OAUTH2.replace("matching_mode: strict", "matching_mode: regex")
    translation = translate(entries, AppLookup())
    assert application_of(translation, "grafana") is None
    text = skipped_text(translation)
    assert "https://grafana.example.test/login/generic_oauth" in text and "regex" in text
    assert "authentik_core.application (slug=grafana)" in text


def test_an_unmappable_binding_on_an_application_leaves_the_application_out():
    entries = OAUTH2.replace("[name, staff]", "[name, nobody-here]")
    translation = translate(entries, AppLookup())
    assert application_of(translation, "grafana") is None
    assert "would be open to whom authentik refuses" in skipped_text(translation)


def test_an_untranslatable_expression_policy_on_an_application_leaves_the_application_out():
    entries = (
        OAUTH2
        + """
- model: authentik_policies_expression.expressionpolicy
  id: only-admins
  identifiers: {name: only-admins}
  attrs: {expression: "return ak_user_by(username='root') == request.user"}
- model: authentik_policies.policybinding
  identifiers:
    order: 20
    target: !Find [authentik_core.application, [slug, grafana]]
    policy: !KeyOf only-admins
"""
    )
    translation = translate(entries, AppLookup())
    assert application_of(translation, "grafana") is None


PROXY = """
- model: authentik_providers_proxy.proxyprovider
  id: wiki-provider
  identifiers: {name: Wiki}
  attrs:
    mode: {mode}
    external_host: https://wiki.example.test
    cookie_domain: example.test
    authorization_flow: !Find
      [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
- model: authentik_core.application
  identifiers: {slug: wiki}
  attrs: {name: Wiki, provider: !KeyOf wiki-provider}
"""


def test_a_forward_single_proxy_provider_maps_to_a_single_host():
    translation = translate(PROXY.replace("{mode}", "forward_single"), AppLookup())
    provider = application_of(translation, "wiki").provider
    assert provider.type == "proxy"
    assert provider.options["external_host"] == "https://wiki.example.test"
    assert provider.options["mode"] == "single"


def test_a_forward_domain_proxy_provider_maps_to_the_cookie_domain():
    translation = translate(PROXY.replace("{mode}", "forward_domain"), AppLookup())
    provider = application_of(translation, "wiki").provider
    assert provider.options["mode"] == "domain"
    assert provider.options["external_host"] == "https://example.test"
    assert "IDP_COOKIE_DOMAIN=example.test" in skipped_text(translation)


def test_a_proxy_mode_provider_is_named_and_its_application_left_out():
    translation = translate(PROXY.replace("{mode}", "proxy"), AppLookup())
    assert application_of(translation, "wiki") is None
    text = skipped_text(translation)
    assert "mode proxy" in text and "forward auth only" in text


def test_an_application_of_a_provider_type_gatehouse_lacks_is_named():
    entries = """
- model: authentik_providers_saml.samlprovider
  id: saml
  identifiers: {name: SAML}
- model: authentik_core.application
  identifiers: {slug: legacy}
  attrs: {name: Legacy, provider: !KeyOf saml}
"""
    translation = translate(entries, AppLookup())
    assert application_of(translation, "legacy") is None
    text = skipped_text(translation)
    assert "no such provider type" in text
    assert "authentik_core.application (slug=legacy)" in text


def test_an_existing_application_keeps_its_bindings_and_gains_the_blueprints():
    existing = {
        "slug": "grafana",
        "name": "Old name",
        "launch_url": "",
        "description": "Kept",
        "policy_engine_mode": "any",
        "provider": {"type": "oauth2", "options": {}},
        "policies": [
            {"user": "alice", "order": 5, "negate": False, "enabled": True, "timeout": 30}
        ],
    }
    translation = translate(OAUTH2, AppLookup(applications={"grafana": existing}))
    application = application_of(translation, "grafana")
    assert (application.name, application.description) == ("Grafana", "Kept")
    assert [(b.user, b.group) for b in application.policies] == [("alice", None), (None, "staff")]


OWN_FLOW = """
- model: authentik_flows.flow
  id: consent-flow
  identifiers: {slug: team-consent}
  attrs: {name: Team consent, designation: authorization}
- model: authentik_providers_proxy.proxyprovider
  id: wiki-provider
  identifiers: {name: Wiki}
  attrs:
    mode: forward_single
    external_host: https://wiki.example.test
    authorization_flow: !KeyOf consent-flow
- model: authentik_core.application
  identifiers: {slug: wiki}
  attrs: {name: Wiki, provider: !KeyOf wiki-provider}
"""


def test_a_provider_may_name_a_flow_of_the_same_blueprint():
    translation = translate(OWN_FLOW, AppLookup())
    assert application_of(translation, "wiki").provider.authorization_flow == "team-consent"
    assert any(
        document.flow is not None and document.flow.slug == "team-consent"
        for document in translation.documents
    )


def test_an_application_whose_authorization_flow_is_left_out_is_left_out_too():
    entries = (
        OWN_FLOW
        + """
- model: authentik_policies_expression.expressionpolicy
  id: expression
  identifiers: {name: nobody}
  attrs: {expression: "import os\\nreturn os.getuid() == 0"}
- model: authentik_policies.policybinding
  identifiers: {order: 0, target: !KeyOf consent-flow, policy: !KeyOf expression}
"""
    )
    translation = translate(entries, AppLookup())
    assert application_of(translation, "wiki") is None
    assert "its provider's flow team-consent is skipped" in skipped_text(translation)
