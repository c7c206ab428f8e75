"""authentik's proxy provider, in its forward auth modes."""

from urllib.parse import urlsplit

from idp.transfer.authentik_models import AuthentikModel


def read_options(source, options: dict) -> None:
    mode = source.text("mode", "proxy")
    external_host = source.text("external_host", "")
    parts = urlsplit(external_host)
    if mode == "forward_single":
        options["mode"] = "single"
        options["external_host"] = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        if parts.path not in ("", "/"):
            options["path_prefix"] = parts.path
    elif mode == "forward_domain":
        # authentik's external_host is then its own address; the app is every host under
        # cookie_domain, which is Gatehouse's domain mode.
        domain = (source.text("cookie_domain", "") or "").strip().lstrip(".")
        if not domain:
            source.skip("mode forward_domain without a cookie_domain")
            return
        options["mode"] = "domain"
        options["external_host"] = f"{parts.scheme or 'https'}://{domain}"
        source.note(
            f"cookie_domain {domain}",
            f"Gatehouse's session cookie domain is a setting: IDP_COOKIE_DOMAIN={domain}",
        )
    else:
        source.skip(
            f"mode {mode}: authentik's outpost carries the traffic itself; Gatehouse does "
            "forward auth only (forward_single, forward_domain)"
        )
        return
    internal_host = source.text("internal_host", "")
    if internal_host:
        source.note(f"internal_host {internal_host}", "only authentik's proxy mode uses it")
    mappings = source.items("property_mappings") or []
    if mappings:
        source.note(
            f"property_mappings {source.show(mappings)}",
            "Python in authentik; Gatehouse's extra headers come from user attributes",
        )


AUTHENTIK = AuthentikModel(
    model="authentik_providers_proxy.proxyprovider",
    read_options=read_options,
    off_values={
        "basic_auth_enabled": (False,),
        "intercept_header_auth": (True,),
        "skip_path_regex": ("",),
        "internal_host_ssl_validation": (True, False),
        "jwks_sources": ([],),
    },
)
