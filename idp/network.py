"""The client's address, taken from forwarded headers only behind a trusted proxy."""

import ipaddress

from flask import current_app, request


def client_ip() -> str:
    remote = request.remote_addr or ""
    trusted = current_app.config["TRUSTED_PROXIES"]
    if not trusted or not _is_in(remote, trusted):
        return remote
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
    # Walk from the nearest hop back; the first address that is not one of ours is the client.
    for address in reversed([part for part in forwarded if part]):
        if not _is_valid(address):
            return remote
        if not _is_in(address, trusted):
            return address
    return remote


def user_agent() -> str:
    return request.headers.get("User-Agent", "")[:500]


def _is_valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _is_in(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
