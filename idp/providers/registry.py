"""Every provider type Gatehouse has: one line each."""

from idp.providers.oauth2 import OAuth2ProviderType
from idp.providers.proxy import ProxyProviderType

PROVIDER_TYPES = {
    provider_type.name: provider_type
    for provider_type in (
        OAuth2ProviderType(),
        ProxyProviderType(),
    )
}
