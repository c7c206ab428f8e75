"""The authentik reader on OAuth2 scope mappings: authentik's mappings of the built-in scopes
become those scopes; another scope becomes a Gatehouse scope mapping only when its Python is
translated (the translator's hook), and is named otherwise. No database."""

import pytest

from idp.transfer.authentik import scope_mappings
from tests.unit.test_authentik_applications import AppLookup, application_of, skipped_text
from tests.unit.test_authentik_blueprint import translate

PROVIDER = """
- model: authentik_providers_oauth2.scopemapping
  id: quota
  identifiers: {managed: null, name: "Nextcloud quota"}
  attrs:
    scope_name: nextcloud
    description: Your storage quota
    expression: |
      return {"quota": request.user.attributes.get("quota", "1 GB")}
- model: authentik_providers_oauth2.scopemapping
  id: profile
  identifiers: {managed: goauthentik.io/providers/oauth2/scope-profile}
  attrs:
    name: "authentik default OAuth Mapping: OpenID 'profile'"
    scope_name: profile
    expression: 'return {"name": request.user.name}'
- model: authentik_providers_oauth2.oauth2provider
  id: cloud-provider
  identifiers: {name: Nextcloud}
  attrs:
    client_type: confidential
    redirect_uris: [{matching_mode: strict, url: "https://cloud.example.test/callback"}]
    authorization_flow: !Find
      [authentik_flows.flow, [slug, default-provider-authorization-implicit-consent]]
    property_mappings:
      - !Find [authentik_providers_oauth2.scopemapping, [scope_name, openid]]
      - !Find
        - authentik_providers_oauth2.scopemapping
        - [managed, goauthentik.io/providers/oauth2/scope-email]
      - !KeyOf profile
      - !KeyOf quota
      - !Find [authentik_providers_oauth2.scopemapping, [scope_name, entitlements]]
- model: authentik_core.application
  identifiers: {slug: nextcloud}
  attrs: {name: Nextcloud, provider: !KeyOf cloud-provider}
"""


def provider_options(translation) -> dict:
    application = application_of(translation, "nextcloud")
    assert application is not None, translation.skipped
    return application.provider.options


def defined(translation) -> list:
    return [mapping for document in translation.documents for mapping in document.scope_mappings]


def test_authentiks_mappings_of_the_built_in_scopes_become_those_scopes():
    translation = translate(PROVIDER, AppLookup())
    options = provider_options(translation)
    # offline_access was not mapped in authentik, so no refresh tokens here either.
    assert options["allowed_scopes"] == ["openid", "profile", "email"]
    resolved = "\n".join(translation.resolved)
    assert "property mapping openid is Gatehouse's built-in scope openid" in resolved
    assert "property mapping email is Gatehouse's built-in scope email" in resolved
    assert "Gatehouse gives the scope profile itself (built in)" in skipped_text(translation)


def test_python_that_is_not_translated_is_named_and_its_scope_not_granted():
    translation = translate(PROVIDER, AppLookup())
    text = skipped_text(translation)
    assert (
        "entries[0] authentik_providers_oauth2.scopemapping (name=Nextcloud quota): its "
        "expression is Python, which is not translated; write a Gatehouse scope mapping "
        "nextcloud that gives the same claims"
    ) in text
    assert (
        "not imported: property_mappings Nextcloud quota (its scope mapping is not imported, "
        "see entries[0])"
    ) in text
    # authentik's entitlements scope is not Gatehouse's, and not in this blueprint.
    assert "property_mappings none (a !Find that found no scope mapping" in text
    assert provider_options(translation)["scope_mappings"] == []
    assert defined(translation) == []


def test_a_translated_scope_mapping_is_imported_and_offered(monkeypatch):
    seen = []

    def translator(python):
        seen.append(python)
        return '{"quota": user.attributes.get("quota", "1 GB")}'

    monkeypatch.setattr(scope_mappings, "translated_expression", translator)
    translation = translate(PROVIDER, AppLookup())
    assert seen == ['return {"quota": request.user.attributes.get("quota", "1 GB")}\n']
    assert provider_options(translation)["scope_mappings"] == ["nextcloud"]
    (mapping,) = defined(translation)
    assert (mapping.name, mapping.description) == ("nextcloud", "Your storage quota")
    assert mapping.expression == '{"quota": user.attributes.get("quota", "1 GB")}'


@pytest.mark.parametrize(
    ("translated", "reason"),
    [("user.name +", "its translated expression is not a valid expression")],
)
def test_a_translation_that_does_not_compile_is_named(monkeypatch, translated, reason):
    monkeypatch.setattr(scope_mappings, "translated_expression", lambda python: translated)
    translation = translate(PROVIDER, AppLookup())
    assert reason in skipped_text(translation)
    assert provider_options(translation)["scope_mappings"] == []


def test_a_scope_name_gatehouse_cannot_use_is_named(monkeypatch):
    monkeypatch.setattr(scope_mappings, "translated_expression", lambda python: "{}")
    entries = PROVIDER.replace("scope_name: nextcloud", "scope_name: two words")
    assert "its scope_name cannot be a Gatehouse scope" in skipped_text(
        translate(entries, AppLookup())
    )


def test_a_back_channel_logout_uri_is_kept_and_a_front_channel_one_named():
    back = PROVIDER.replace(
        "    client_type: confidential\n",
        "    client_type: confidential\n    logout_uri: https://cloud.example.test/logout\n",
    )
    options = provider_options(translate(back, AppLookup()))
    assert options["backchannel_logout_uri"] == "https://cloud.example.test/logout"
    front = back.replace("    logout_uri:", "    logout_method: frontchannel\n    logout_uri:")
    translation = translate(front, AppLookup())
    assert provider_options(translation)["backchannel_logout_uri"] == ""
    assert "Gatehouse has back-channel logout, not front-channel" in skipped_text(translation)
