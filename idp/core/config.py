"""Settings from IDP_* environment variables, with defaults that work on a laptop."""

import ipaddress
import os
import re
import secrets
import time
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit


class ConfigError(ValueError):
    """A setting has a value Gatehouse cannot use; the message names the variable."""


SMTP_TLS_MODES = ("none", "starttls", "ssl")
LOG_FORMATS = ("text", "json")
# The longest a sign-in may last (user_login's session_duration), and so how old a signed
# session cookie may be: it is signed again only when it changes, not when it is used.
LONGEST_SESSION = timedelta(days=400)


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


_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


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


def _instance_folder(instance_path: str) -> Path:
    instance = Path(instance_path)
    try:
        instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"IDP_INSTANCE_PATH: cannot create the folder {str(instance)!r}: {error.strerror}"
        ) from None
    return instance


def _create_private_file(path: Path, content: bytes = b"") -> None:
    """Create a file readable only by its owner; do nothing if it exists."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as error:
        raise ConfigError(
            f"IDP_INSTANCE_PATH: cannot create {str(path)!r}: {error.strerror}"
        ) from None
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def _secret_key(environ, instance_path: Path) -> str:
    if environ.get("IDP_SECRET_KEY"):
        if len(environ["IDP_SECRET_KEY"]) < 32:
            raise ConfigError("IDP_SECRET_KEY must be at least 32 characters long")
        return environ["IDP_SECRET_KEY"]
    key_file = instance_path / "secret_key"
    _create_private_file(key_file, secrets.token_urlsafe(48).encode())
    key = _read_key(key_file)
    for _attempt in range(KEY_WAITS):
        if len(key) >= 32:
            break
        # Another process starting at the same moment (gunicorn workers without preload)
        # has made the file and not yet written it.
        time.sleep(0.05)
        key = _read_key(key_file)
    if len(key) < 32:
        raise ConfigError(
            f"IDP_SECRET_KEY: the generated key in {str(key_file)!r} is shorter than 32 "
            f"characters; delete the file to have a new one made"
        )
    return key


KEY_WAITS = 40


def _read_key(key_file: Path) -> str:
    try:
        return key_file.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"IDP_INSTANCE_PATH: cannot read {str(key_file)!r}: {error}") from None


def _database_url(environ, instance_path: Path) -> str:
    if environ.get("IDP_DATABASE_URL"):
        return _checked_database_url(environ["IDP_DATABASE_URL"])
    database_file = instance_path / "gatehouse.db"
    _create_private_file(database_file)
    return f"sqlite:///{database_file}"


def _checked_database_url(raw: str) -> str:
    """The URL as SQLAlchemy will read it, with a driver it can load; the message never
    repeats the URL, which holds the database password."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    example = "such as postgresql+psycopg://gatehouse:secret@db/gatehouse"
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise ConfigError(f"IDP_DATABASE_URL is not a database URL, {example}") from None
    if "@" in (url.host or ""):
        # The password ends at its first @: the rest would be taken for the host, and named
        # in every connection error.
        raise ConfigError("IDP_DATABASE_URL: write an @ in the password as %40")
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise ConfigError(
            f"IDP_DATABASE_URL names a database driver SQLAlchemy does not have: "
            f"{url.drivername!r} ({example})"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as missing:
        # SQLAlchemy knows mysql:// but the Python package that talks to it is not here, or
        # it cannot load (psycopg without libpq: no module name, only its own words).
        what = (
            f"Python package ({missing.name}) is not installed"
            if missing.name
            else f"Python package cannot be loaded: {missing}"
        )
        raise ConfigError(
            f"IDP_DATABASE_URL names the driver {url.drivername!r}, whose {what} ({example})"
        ) from None
    return raw


def _idle_timeout(environ) -> int:
    seconds = _integer(environ, "IDP_SESSION_IDLE_TIMEOUT", 1800, 0, 400 * 86400)
    # Use is recorded once a minute at most (idp/identity/sessions.py): a shorter limit would end
    # sessions that are in use.
    if 0 < seconds < 300:
        raise ConfigError(
            f"IDP_SESSION_IDLE_TIMEOUT must be 0 (no idle limit) or at least 300, not {seconds}"
        )
    return seconds


def _webauthn(environ, base_url: str) -> dict:
    """The relying party passkeys are made for: IDP_WEBAUTHN_RP_ID and IDP_WEBAUTHN_ORIGIN, by
    default the host and origin of IDP_BASE_URL. Never the request's Host header: a passkey
    is bound to this name for good, and a forged Host must not choose it. With neither set
    (a laptop), or a base URL on a bare IP address (not a valid relying-party id), both stay
    empty and passkeys are switched off with a message that names the settings."""
    origin = (environ.get("IDP_WEBAUTHN_ORIGIN") or "").strip().rstrip("/") or base_url
    if origin:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
            raise ConfigError(
                f"IDP_WEBAUTHN_ORIGIN must be a scheme and host such as https://id.example.org, "
                f"not {origin!r}"
            )
        origin = f"{parts.scheme}://{parts.netloc}".lower()
    host = urlsplit(origin).hostname or "" if origin else ""
    rp_id = (environ.get("IDP_WEBAUTHN_RP_ID") or "").strip().lower()
    if rp_id:
        if not origin:
            raise ConfigError("IDP_WEBAUTHN_RP_ID needs IDP_BASE_URL or IDP_WEBAUTHN_ORIGIN")
        if not _is_domain(rp_id) or not (host == rp_id or host.endswith("." + rp_id)):
            raise ConfigError(
                f"IDP_WEBAUTHN_RP_ID must be the origin's host name or a domain above it "
                f"({host!r}), not {rp_id!r}"
            )
    elif _is_domain(host):
        rp_id = host
    if not rp_id:
        origin = ""
    return {"WEBAUTHN_RP_ID": rp_id, "WEBAUTHN_ORIGIN": origin}


def _is_domain(name: str) -> bool:
    if not name or name.replace(".", "").isdigit() or ":" in name:
        return False
    return all(_DOMAIN_LABEL.match(label) for label in name.split("."))


def _base_url(environ) -> str:
    base_url = (environ.get("IDP_BASE_URL") or "").rstrip("/")
    if base_url and not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"IDP_BASE_URL must start with http:// or https://, not {base_url!r}")
    try:
        parts = urlsplit(base_url)
        parts.port  # noqa: B018 (a port that is not a number, or past 65535, raises here)
    except ValueError:  # "https://[::1": urlsplit's own refusal
        parts = None
    if base_url and (
        parts is None or not parts.hostname or parts.path or parts.query or parts.fragment
    ):
        # Gatehouse is served at the root of its host: a path would be left out of every
        # link and of the OpenID Connect issuer.
        raise ConfigError(
            f"IDP_BASE_URL must be a scheme and host such as https://id.example.org, "
            f"not {base_url!r}"
        )
    return base_url


def _sender(environ) -> str:
    """A mail address, with a name or without: every mail would otherwise be refused by the
    server, or fail in the background, long after the setting was made."""
    raw = environ.get("IDP_SMTP_FROM") or "gatehouse@localhost"
    _name, address = parseaddr(raw)
    local, _, domain = address.rpartition("@")
    # A control character anywhere (a CR as well as a line feed) would break the header.
    if not local or not domain or any(c.isspace() for c in address) or not raw.isprintable():
        raise ConfigError(
            "IDP_SMTP_FROM must be a mail address such as id@example.org or "
            f"'Gatehouse <id@example.org>', not {raw!r}"
        )
    return raw


def load_settings(environ, instance_path: str) -> dict:
    """Read every IDP_* setting into Flask config keys. Raises ConfigError on bad values."""
    instance = _instance_folder(instance_path)
    base_url = _base_url(environ)
    return {
        "SECRET_KEY": _secret_key(environ, instance),
        "SQLALCHEMY_DATABASE_URI": _database_url(environ, instance),
        "BCRYPT_ROUNDS": _integer(environ, "IDP_BCRYPT_ROUNDS", 12, 4, 16),
        "BASE_URL": base_url,
        "COOKIE_DOMAIN": _cookie_domain(environ),
        **_webauthn(environ, base_url),
        "LOG_FORMAT": _choice(environ, "IDP_LOG_FORMAT", "text", LOG_FORMATS),
        "TRUSTED_PROXIES": _networks(environ, "IDP_TRUSTED_PROXIES"),
        "METRICS_ALLOWED": _networks(environ, "IDP_METRICS_ALLOWED", "127.0.0.0/8 ::1"),
        "SMTP_HOST": environ.get("IDP_SMTP_HOST", ""),
        "SMTP_PORT": _integer(environ, "IDP_SMTP_PORT", 25, 1, 65535),
        "SMTP_USER": environ.get("IDP_SMTP_USER", ""),
        "SMTP_PASSWORD": environ.get("IDP_SMTP_PASSWORD", ""),
        "SMTP_FROM": _sender(environ),
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
        # with a mailed sign-in link (idp.protection.attempts), and how often such a link may be
        # mailed.
        "LOGIN_PROOF_AFTER": _integer(environ, "IDP_LOGIN_PROOF_AFTER", 10, 1, 1000),
        "LOGIN_PROOF_MAIL_INTERVAL": _integer(
            environ, "IDP_LOGIN_PROOF_MAIL_INTERVAL", 900, 60, 86400
        ),
        "UNCONFIRMED_SIGNUP_LIFETIME": _integer(
            environ, "IDP_UNCONFIRMED_SIGNUP_LIFETIME", 86400, 3600, 30 * 86400
        ),
        "EVENT_RETENTION_DAYS": _integer(environ, "IDP_EVENT_RETENTION_DAYS", 365, 0, 36500),
    }
