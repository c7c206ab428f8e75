from flask import current_app, has_request_context, request


def base_url() -> str:
    """Gatehouse's own address: IDP_BASE_URL, else the address the request came to."""
    configured = current_app.config.get("BASE_URL") or ""
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return "http://127.0.0.1:5000"
