"""Settings from IDP_* environment variables, with defaults that work on a laptop."""

import ipaddress
import os
import re
import secrets
from pathlib import Path


class ConfigError(ValueError):
    """A setting has a value Gatehouse cannot use; the message names the variable."""


SMTP_TLS_MODES = ("none", "starttls", "ssl")
LOG_FORMATS = ("text", "json")


def _integer(environ, name, default, minimum, maximum):
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name} must be between {minimum} and {maximum}, not {value}")
    return value


def _choice(environ, name, default, choices):
    value = environ.get(name) or default
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _networks(environ, name, default=""):
    networks = []
    for item in environ.get(name, default).replace(",", " ").split():
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigError(f"{name}: {item!r} is not an IP address or network") from None
    return tuple(networks)


_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def _cookie_domain(environ) -> str:
    """A bare domain name (`example.org`); the session cookie is then sent to every host
    under it, which forward auth needs for apps on sibling host names."""
    raw = (environ.get("IDP_COOKIE_DOMAIN") or "").strip().lower().lstrip(".")
    if not raw:
        return ""
    labels = raw.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise ConfigError(
            f"IDP_COOKIE_DOMAIN must be a domain name such as example.org, not {raw!r}"
        )
    return raw


def _create_private_file(path: Path, content: bytes = b"") -> None:
    """Create a file readable only by its owner; do nothing if it exists."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def _secret_key(environ, instance_path: Path) -> str:
    if environ.get("IDP_SECRET_KEY"):
        if len(environ["IDP_SECRET_KEY"]) < 32:
            raise ConfigError("IDP_SECRET_KEY must be at least 32 characters long")
        return environ["IDP_SECRET_KEY"]
    key_file = instance_path / "secret_key"
    _create_private_file(key_file, secrets.token_urlsafe(48).encode())
    return key_file.read_text().strip()


def _database_url(environ, instance_path: Path) -> str:
    if environ.get("IDP_DATABASE_URL"):
        return environ["IDP_DATABASE_URL"]
    database_file = instance_path / "gatehouse.db"
    _create_private_file(database_file)
    return f"sqlite:///{database_file}"


def _idle_timeout(environ) -> int:
    seconds = _integer(environ, "IDP_SESSION_IDLE_TIMEOUT", 1800, 0, 400 * 86400)
    # Use is recorded once a minute at most (idp/sessions.py): a shorter limit would end
    # sessions that are in use.
    if 0 < seconds < 300:
        raise ConfigError(
            f"IDP_SESSION_IDLE_TIMEOUT must be 0 (no idle limit) or at least 300, not {seconds}"
        )
    return seconds


def load_settings(environ, instance_path: str) -> dict:
    """Read every IDP_* setting into Flask config keys. Raises ConfigError on bad values."""
    instance = Path(instance_path)
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    base_url = (environ.get("IDP_BASE_URL") or "").rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"IDP_BASE_URL must start with http:// or https://, not {base_url!r}")
    return {
        "SECRET_KEY": _secret_key(environ, instance),
        "SQLALCHEMY_DATABASE_URI": _database_url(environ, instance),
        "BCRYPT_ROUNDS": _integer(environ, "IDP_BCRYPT_ROUNDS", 12, 4, 16),
        "BASE_URL": base_url,
        "COOKIE_DOMAIN": _cookie_domain(environ),
        "LOG_FORMAT": _choice(environ, "IDP_LOG_FORMAT", "text", LOG_FORMATS),
        "TRUSTED_PROXIES": _networks(environ, "IDP_TRUSTED_PROXIES"),
        "METRICS_ALLOWED": _networks(environ, "IDP_METRICS_ALLOWED", "127.0.0.0/8 ::1"),
        "SMTP_HOST": environ.get("IDP_SMTP_HOST", ""),
        "SMTP_PORT": _integer(environ, "IDP_SMTP_PORT", 25, 1, 65535),
        "SMTP_USER": environ.get("IDP_SMTP_USER", ""),
        "SMTP_PASSWORD": environ.get("IDP_SMTP_PASSWORD", ""),
        "SMTP_FROM": environ.get("IDP_SMTP_FROM", "gatehouse@localhost"),
        "SMTP_TLS": _choice(environ, "IDP_SMTP_TLS", "none", SMTP_TLS_MODES),
        "DATABASE_POOL_SIZE": _integer(environ, "IDP_DATABASE_POOL_SIZE", 10, 1, 1000),
        "FLOW_PLAN_LIFETIME": _integer(environ, "IDP_FLOW_PLAN_LIFETIME", 1800, 60, 86400),
        "LOGIN_FREE_ATTEMPTS": _integer(environ, "IDP_LOGIN_FREE_ATTEMPTS", 5, 1, 1000),
        "LOGIN_FREE_ATTEMPTS_PER_IP": _integer(
            environ, "IDP_LOGIN_FREE_ATTEMPTS_PER_IP", 30, 1, 100000
        ),
        "LOGIN_DELAY_BASE": _integer(environ, "IDP_LOGIN_DELAY_BASE", 2, 1, 3600),
        "LOGIN_DELAY_MAX": _integer(environ, "IDP_LOGIN_DELAY_MAX", 300, 1, 86400),
        "LOGIN_FAILURES_FORGOTTEN_AFTER": _integer(
            environ, "IDP_LOGIN_FAILURES_FORGOTTEN_AFTER", 86400, 60, 30 * 86400
        ),
        "SESSION_IDLE_TIMEOUT": _idle_timeout(environ),
        # How long after proving themselves (signing in, or asked again) a signed-in user
        # may add an authenticator.
        "REAUTHENTICATION_WINDOW": _integer(environ, "IDP_REAUTHENTICATION_WINDOW", 300, 30, 86400),
        # Failures on a name from unknown browsers after which a password is weighed only
        # with a mailed sign-in link (idp.attempts), and how often such a link may be mailed.
        "LOGIN_PROOF_AFTER": _integer(environ, "IDP_LOGIN_PROOF_AFTER", 10, 1, 1000),
        "LOGIN_PROOF_MAIL_INTERVAL": _integer(
            environ, "IDP_LOGIN_PROOF_MAIL_INTERVAL", 900, 60, 86400
        ),
        "UNCONFIRMED_SIGNUP_LIFETIME": _integer(
            environ, "IDP_UNCONFIRMED_SIGNUP_LIFETIME", 86400, 3600, 30 * 86400
        ),
    }
