"""The OpenID Provider metadata of one application (OpenID Connect Discovery 1.0)."""

from idp.applications.addresses import base_url
from idp.providers.oauth2.returning import RESPONSE_MODES


def discovery_document(client) -> dict:
    base = base_url()
    issuer = client.issuer
    options = client.options
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{base}/application/o/authorize/",
        "token_endpoint": f"{base}/application/o/token/",
        "userinfo_endpoint": f"{base}/application/o/userinfo/",
        "introspection_endpoint": f"{base}/application/o/introspect/",
        "revocation_endpoint": f"{base}/application/o/revoke/",
        "end_session_endpoint": f"{issuer}end-session/",
        "jwks_uri": f"{issuer}jwks/",
        "response_types_supported": ["code"],
        "response_modes_supported": list(RESPONSE_MODES),
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [options.signing_algorithm],
        "scopes_supported": client.scopes_supported,
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "nickname",
            "groups",
            "email",
            "email_verified",
            "sid",
        ],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
        ],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        # Discovery 1.0 makes an absent request_uri_parameter_supported mean true.
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "frontchannel_logout_supported": False,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
