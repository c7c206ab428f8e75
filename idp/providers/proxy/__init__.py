from idp.providers.proxy.provider import ProxyProviderType

__all__ = ["ProxyProviderType"]
