def issuer_url(base_url: str, slug: str) -> str:
    """authentik's layout: clients migrating from authentik change only the host."""
    return f"{base_url.rstrip('/')}/application/o/{slug}/"
