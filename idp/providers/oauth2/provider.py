from idp.providers.base import ProviderType
from idp.providers.oauth2 import credentials
from idp.providers.oauth2.authentik import AUTHENTIK
from idp.providers.oauth2.forms import OptionsForm
from idp.providers.oauth2.issuer import issuer_url
from idp.providers.oauth2.options import OAuth2Options
from idp.providers.oauth2.routes import bp


class OAuth2ProviderType(ProviderType):
    """OpenID Connect (OAuth 2.0 authorization code with PKCE, refresh, client credentials)."""

    name = "oauth2"
    label = "OAuth2/OpenID Connect"
    description = "For applications that can sign users in with OpenID Connect."
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

    def preview(self, application, provider, options, user) -> dict | None:
        from idp.identity.accounts import user_group_names
        from idp.providers.oauth2.claims import claims_for

        scopes = list(options.allowed_scopes)
        return claims_for(user, scopes, user_group_names(user))

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
