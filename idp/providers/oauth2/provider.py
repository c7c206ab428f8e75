from idp.core.i18n import N_
from idp.providers.base import ProviderType
from idp.providers.oauth2 import credentials
from idp.providers.oauth2.authentik import AUTHENTIK
from idp.providers.oauth2.forms import OptionsForm
from idp.providers.oauth2.issuer import issuer_url
from idp.providers.oauth2.options import OAuth2Options
from idp.providers.oauth2.routes import bp

# In the admin's claims preview: the scope mappings that failed, and why.
PREVIEW_FAILURES = "_failed"


class OAuth2ProviderType(ProviderType):
    """OpenID Connect (OAuth 2.0 authorization code with PKCE, refresh, client credentials)."""

    name = "oauth2"
    label = N_("OAuth2/OpenID Connect")
    description = N_("For applications that can sign users in with OpenID Connect.")
    Options = OAuth2Options
    options_form = OptionsForm
    blueprint = bp
    authentik = AUTHENTIK

    def provision(self, provider, options) -> dict:
        provider.client_id = credentials.new_client_id()
        if options.is_public:
            provider.client_secret_hash = None
            return {}
        secret = credentials.new_client_secret()
        provider.client_secret_hash = credentials.hash_secret(secret)
        return {"client_secret": secret}

    def rotate_secret(self, provider, options) -> dict | None:
        if options.is_public:
            return None
        secret = credentials.new_client_secret()
        provider.client_secret_hash = credentials.hash_secret(secret)
        return {"client_secret": secret}

    def ready_to_serve(self, options) -> None:
        """The signing keys of its algorithm: published before the first token is signed, and
        never made by a GET of the key set."""
        from idp.providers.oauth2 import keys

        keys.ensure_keys(options.signing_algorithm)

    def referenced_scope_mappings(self, options) -> tuple[str, ...]:
        return options.scope_mappings

    def preview(self, application, provider, options, user) -> dict | None:
        """Every scope it may ask for, admin-defined ones too; a scope mapping that fails is
        named under `_failed` (the admin sees why; clients never do)."""
        from idp.providers.oauth2.scope_mappings import claims_for, load_scope_mappings

        mappings = load_scope_mappings(options.scope_mappings)
        scopes = [*options.allowed_scopes, *(mapping.name for mapping in mappings)]
        claims = claims_for(application, user, scopes, mappings, record_failures=False)
        failed = {failure.mapping: failure.reason for failure in claims.failures}
        return {**claims.values, **({PREVIEW_FAILURES: failed} if failed else {})}

    def facts(self, application, provider, options, base_url: str) -> dict:
        issuer = issuer_url(base_url, application.slug)
        return {
            "client_id": provider.client_id,
            "issuer": issuer,
            "discovery": f"{issuer}.well-known/openid-configuration",
            "authorize": f"{base_url}/application/o/authorize/",
            "token": f"{base_url}/application/o/token/",
            "userinfo": f"{base_url}/application/o/userinfo/",
            "jwks": f"{issuer}jwks/",
            "end_session": f"{issuer}end-session/",
        }
