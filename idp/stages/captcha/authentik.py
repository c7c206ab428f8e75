"""authentik's captcha stage: a hosted widget (reCAPTCHA unless its URLs say otherwise)."""

from urllib.parse import urlsplit

from idp.transfer.authentik_models import AuthentikModel

# The provider a widget's addresses belong to. authentik's defaults are reCAPTCHA's
# recaptcha.net mirror; Gatehouse talks to each provider at its own main addresses.
PROVIDER_HOSTS = {
    "challenges.cloudflare.com": "turnstile",
    "hcaptcha.com": "hcaptcha",
    "google.com": "recaptcha",
    "recaptcha.net": "recaptcha",
    "gstatic.com": "recaptcha",
}


def _provider_of(url: str) -> str | None:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return None
    for suffix, provider in PROVIDER_HOSTS.items():
        if host == suffix or host.endswith("." + suffix):
            return provider
    return None


def read_options(source, options: dict) -> None:
    urls = [source.text(key) or "" for key in ("js_url", "api_url")]
    providers = {_provider_of(url) if url else "recaptcha" for url in urls}
    if len(providers) != 1 or None in providers:
        source.skip(
            f"its js_url and api_url ({', '.join(url or 'default' for url in urls)}) are not "
            "one of the providers Gatehouse knows (Turnstile, hCaptcha, reCAPTCHA)"
        )
        return
    (provider,) = providers
    if provider == "recaptcha" and not source.flag("interactive", False):
        # An invisible reCAPTCHA may be v3, which decides by score; Gatehouse checks no
        # score: imported, it could let through what authentik stops.
        source.skip(
            "it is an invisible reCAPTCHA (interactive false), which may be judged by score "
            "(v3); Gatehouse checks no score. Use a visible one (interactive: true) or Turnstile"
        )
        return
    secret = source.value("secret")
    keys = {key: source.text(key, "") for key in ("public_key", "private_key")}
    if secret is not None and not keys["private_key"].strip():
        source.skip(
            f"its private key is kept in an authentik secret ({source.show(secret)}), which "
            "Gatehouse does not read; give it as private_key, or in the stage's settings"
        )
        return
    if not all(value.strip() for value in keys.values()):
        source.skip("its public_key or private_key is empty")
        return
    options.update(
        mode="provider",
        provider=provider,
        site_key=keys["public_key"],
        secret_key=keys["private_key"],
        verify_url="",
        provider_script_url="",
    )


AUTHENTIK = AuthentikModel(
    model="authentik_stages_captcha.captchastage",
    read_options=read_options,
    off_values={
        "interactive": (True, False),
        "score_min_threshold": (0.5,),
        "score_max_threshold": (1.0, 1),
        "error_on_invalid_score": (True,),
    },
)
