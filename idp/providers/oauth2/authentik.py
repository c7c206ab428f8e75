"""authentik's OAuth2/OpenID provider."""

from idp.providers.oauth2.options import SCOPES
from idp.transfer.authentik_models import AuthentikModel, format_duration

LIFETIMES = {
    "access_token_validity": "access_token_lifetime",
    "refresh_token_validity": "refresh_token_lifetime",
}


def _redirect_uris(source) -> list[str]:
    """authentik 2024.8 and later: a list of {matching_mode, url}; before: one URI a line."""
    value = source.value("redirect_uris")
    if value is None:
        return []
    if isinstance(value, str):
        return [line.strip() for line in value.splitlines() if line.strip()]
    if not isinstance(value, list):
        source.problem("redirect_uris must be a list or text")
        return []
    uris = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            uris.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            keys = ", ".join(map(str, item)) if isinstance(item, dict) else source.show(item)
            source.problem(
                f"redirect_uris[{index}] has {keys}; authentik wants {{matching_mode, url}}"
            )
            continue
        mode = item.get("matching_mode", "strict")
        if mode != "strict":
            # A pattern would let through addresses an exact list cannot name; the client is
            # left out rather than opened wider or narrower than in authentik.
            source.skip(
                f"its redirect URI {item['url']!r} is matched as {mode}; Gatehouse matches "
                "redirect URIs exactly (list each one with matching_mode strict)"
            )
            continue
        uris.append(item["url"])
    return uris


def read_options(source, options: dict) -> None:
    client_type = source.choice("client_type", ("confidential", "public"), "confidential")
    options["client_type"] = client_type
    options["redirect_uris"] = _redirect_uris(source)
    if source.value("client_secret") is not None:
        source.note("client_secret", "secrets are never imported; a new one is made and shown once")
    signing_key = source.value("signing_key")
    if source.is_given("signing_key"):
        # authentik signs with the key pair's own algorithm; its generated ones are RSA.
        options["signing_algorithm"] = "RS256"
        shown = source.show(signing_key) if signing_key is not None else "(a key pair)"
        source.note(
            f"signing_key {shown}",
            "Gatehouse signs with its own keys (RS256, as with authentik's generated certificate)",
        )
    elif source.has("signing_key"):
        source.note(
            "signing_key none",
            "authentik then signs HS256 with the client secret; Gatehouse signs ES256",
        )
    for attribute, option in LIFETIMES.items():
        if source.has(attribute):
            lifetime = source.duration(attribute)
            if lifetime is not None:
                options[option] = format_duration(lifetime)
    if source.has("include_claims_in_id_token"):
        options["include_claims_in_id_token"] = source.flag("include_claims_in_id_token", True)
    if source.has("property_mappings"):
        _read_scopes(source, options)
    _read_logout(source, options)


def _read_logout(source, options: dict) -> None:
    """authentik 2025.4 and later: a logout_uri the client is told at on sign-out."""
    uri = source.text("logout_uri", "")
    method = source.choice("logout_method", ("backchannel", "frontchannel"), "backchannel")
    if not uri:
        return
    if method == "backchannel":
        options["backchannel_logout_uri"] = uri
    else:
        source.note(f"logout_uri {uri}", "Gatehouse has back-channel logout, not front-channel")


def _read_scopes(source, options: dict) -> None:
    """authentik gives a scope only through a property mapping: the built-in scopes mapped
    are allowed (openid always), and the scope mappings Gatehouse imports are offered. One it
    cannot import is named; its scope is then not granted."""
    built_in, offered = {"openid"}, []
    for value in source.items("property_mappings") or []:
        mapping, scope, why = source.scope_mapping(value)
        if scope is not None:
            built_in.add(scope)
        elif mapping is not None:
            offered.append(mapping)
        else:
            source.note(f"property_mappings {source.show(value)}", why)
    options["allowed_scopes"] = [scope for scope in SCOPES if scope in built_in]
    if offered:
        options["scope_mappings"] = list(dict.fromkeys(offered))


AUTHENTIK = AuthentikModel(
    model="authentik_providers_oauth2.oauth2provider",
    read_options=read_options,
    off_values={
        "issuer_mode": ("per_provider",),
        "access_code_validity": ("minutes=1",),
        "jwks_sources": ([],),
    },
    client_id_attribute="client_id",
)
