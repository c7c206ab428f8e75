from idp.providers.oauth2.provider import OAuth2ProviderType

__all__ = ["OAuth2ProviderType"]
