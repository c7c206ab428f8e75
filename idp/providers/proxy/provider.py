from idp.core.i18n import N_
from idp.providers.base import ProviderType
from idp.providers.proxy.authentik import AUTHENTIK
from idp.providers.proxy.options import ProxyOptions
from idp.providers.proxy.routes import bp


class ProxyProviderType(ProviderType):
    """Forward auth: the reverse proxy asks Gatehouse about every request to the app."""

    name = "proxy"
    label = N_("Forward auth (proxy)")
    description = N_(
        "For applications that cannot sign users in themselves: nginx, Caddy or Traefik ask "
        "Gatehouse about every request and pass the user's name on in headers."
    )
    Options = ProxyOptions
    blueprint = bp
    authentik = AUTHENTIK
    admin_tools = (("provider_proxy.test_request", "Test a request"),)

    def claimed_address(self, options) -> str | None:
        # As application_for compares them: a single host by its path prefix, in any case;
        # a domain as a whole.
        if options.mode == "domain":
            return f"*.{options.host}"
        return options.host + options.prefix.lower()

    def facts(self, application, provider, options, base_url: str) -> dict:
        return {
            "external_host": options.external_host + options.prefix,
            "mode": options.mode,
            "nginx auth_request URL": f"{base_url}/api/authz/auth-request",
            "Caddy/Traefik forward auth URL": f"{base_url}/api/authz/forward-auth",
        }
