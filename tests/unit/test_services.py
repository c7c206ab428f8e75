import threading
from datetime import timedelta

import pytest

from idp.core.config import ConfigError, load_settings
from idp.core.durations import parse_duration
from idp.core.http import safe_next
from idp.core.network import client_ip
from idp.core.sealing import SealBroken, is_sealed, seal, unseal


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1x", "h", "1 day", "-1h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/me", "/me"),
        ("/a?b=c#d", "/a?b=c#d"),
        ("", ""),
        (None, ""),
        ("me", ""),
        ("//x.example", ""),
        ("/\\x.example", ""),
        ("https://x.example/", ""),
        ("/\tx", ""),
    ],
)
def test_safe_next(value, expected):
    assert safe_next(value) == expected


def test_sealed_values_open_only_with_the_same_secret(app, tmp_path):
    from tests.conftest import make_test_app

    with app.app_context():
        sealed = seal("hunter2")
        assert is_sealed(sealed) and "hunter2" not in str(sealed)
        assert unseal(sealed) == "hunter2"
    other = make_test_app(tmp_path / "other", SECRET_KEY="another-secret-key-that-is-long-enough!!")
    with other.app_context(), pytest.raises(SealBroken):
        unseal(sealed)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"IDP_BCRYPT_ROUNDS": "lots"}, "IDP_BCRYPT_ROUNDS must be a whole number"),
        ({"IDP_BCRYPT_ROUNDS": "40"}, "between 4 and 16"),
        ({"IDP_LOG_FORMAT": "xml"}, "IDP_LOG_FORMAT must be one of text, json"),
        ({"IDP_SMTP_TLS": "maybe"}, "IDP_SMTP_TLS must be one of"),
        ({"IDP_SMTP_FROM": "not an address"}, "IDP_SMTP_FROM must be a mail address"),
        ({"IDP_SMTP_FROM": "Gatehouse <@example.org>"}, "IDP_SMTP_FROM must be a mail address"),
        ({"IDP_SMTP_FROM": "id@example.org\nBcc: x@y.test"}, "IDP_SMTP_FROM must be a mail"),
        ({"IDP_SMTP_FROM": "id@example.org\rBcc: x@y.test"}, "IDP_SMTP_FROM must be a mail"),
        ({"IDP_SMTP_FROM": "Gate\rhouse <id@example.org>"}, "IDP_SMTP_FROM must be a mail"),
        ({"IDP_TRUSTED_PROXIES": "10.0.0.0/8 not-an-ip"}, "'not-an-ip' is not an IP"),
        ({"IDP_SECRET_KEY": "short"}, "at least 32 characters"),
        ({"IDP_BASE_URL": "idp.example"}, "must start with http"),
        ({"IDP_BASE_URL": "https://id.example.org/idp/"}, "IDP_BASE_URL must be a scheme and"),
        ({"IDP_BASE_URL": "https://id.example.org?x=1"}, "IDP_BASE_URL must be a scheme and"),
        ({"IDP_BASE_URL": "https://:443"}, "IDP_BASE_URL must be a scheme and"),
        ({"IDP_BASE_URL": "https://[::1"}, "IDP_BASE_URL must be a scheme and"),
        ({"IDP_BASE_URL": "https://id.example.org:99999"}, "IDP_BASE_URL must be a scheme and"),
        ({"IDP_BASE_URL": "https://id.example.org:x"}, "IDP_BASE_URL must be a scheme and"),
        ({"IDP_DATABASE_URL": "not a url"}, "IDP_DATABASE_URL is not a database URL"),
        ({"IDP_DATABASE_URL": "postgres+nodriver://u:pw@db/x"}, "IDP_DATABASE_URL names a"),
        ({"IDP_DATABASE_URL": "postgresql://u:s3cret@db:5432x/x"}, "is not a database URL"),
        ({"IDP_DATABASE_URL": "postgresql://u:Sup3r@secret:Pa55@db/x"}, "is not a database URL"),
        ({"IDP_DATABASE_URL": "postgresql://u:Sup3r@Secr3t@db/x"}, "write an @ in the password"),
    ],
)
def test_bad_settings_name_the_variable(tmp_path, environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ, str(tmp_path))


@pytest.mark.parametrize("sender", ["id@example.org", "Gatehouse <id@example.org>", ""])
def test_a_mail_sender_with_or_without_a_name_is_taken(tmp_path, sender):
    settings = load_settings({"IDP_SMTP_FROM": sender}, str(tmp_path))
    assert settings["SMTP_FROM"] == (sender or "gatehouse@localhost")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://gatehouse:s3cret@db:5432x/gatehouse",
        "postgresql://gatehouse:Sup3r@s3cret:Pa55@db/gatehouse",
        "postgresql://gatehouse:Sup3r@s3cret@db/gatehouse",
        "nosuchdb://gatehouse:s3cret@db/gatehouse",
        "mysql+mysqldb://gatehouse:s3cret@db/gatehouse",
    ],
)
def test_a_database_url_that_cannot_be_used_never_shows_its_password(tmp_path, url):
    with pytest.raises(ConfigError) as refused:
        load_settings({"IDP_DATABASE_URL": url}, str(tmp_path))
    assert "s3cret" not in str(refused.value) and "Pa55" not in str(refused.value)


def test_a_database_driver_whose_package_is_missing_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"'mysql\+mysqldb', whose Python package \(MySQLdb\)"):
        load_settings({"IDP_DATABASE_URL": "mysql+mysqldb://gatehouse@db/gatehouse"}, str(tmp_path))


def test_a_database_driver_that_cannot_load_is_named_in_its_own_words(tmp_path, monkeypatch):
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    def no_libpq():
        raise ImportError("no pq wrapper available.")  # psycopg's words, without a module name

    monkeypatch.setattr(PGDialect_psycopg, "import_dbapi", staticmethod(no_libpq))
    with pytest.raises(ConfigError) as refused:
        load_settings({"IDP_DATABASE_URL": "postgresql+psycopg://g:s3cret@db/g"}, str(tmp_path))
    assert "whose Python package cannot be loaded: no pq wrapper available." in str(refused.value)
    assert "None" not in str(refused.value) and "s3cret" not in str(refused.value)


def test_an_instance_folder_that_cannot_be_made_is_a_setting_error(tmp_path):
    (tmp_path / "taken").write_text("a file where the folder would go")
    with pytest.raises(ConfigError, match="IDP_INSTANCE_PATH: cannot create the folder"):
        load_settings({}, str(tmp_path / "taken"))


def test_a_generated_key_that_cannot_be_read_is_a_setting_error(tmp_path):
    (tmp_path / "secret_key").mkdir()
    with pytest.raises(ConfigError, match="IDP_INSTANCE_PATH: cannot read"):
        load_settings({}, str(tmp_path))


def test_an_empty_generated_key_is_refused_not_used(tmp_path, monkeypatch):
    # A first start cut short (disk full) leaves the file empty: an empty key would make
    # every page a 500 ("no secret key was set").
    monkeypatch.setattr("idp.core.config.KEY_WAITS", 2)
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ConfigError, match=r"IDP_SECRET_KEY: the generated key in .* is shorter"):
        load_settings({}, str(tmp_path))


def test_a_key_another_process_is_still_writing_is_waited_for(tmp_path):
    # Two processes start on a new instance: one made the file, the other reads it before
    # the key is in it.
    (tmp_path / "secret_key").write_text("")
    key = "k" * 64
    writer = threading.Timer(0.2, (tmp_path / "secret_key").write_text, args=(key,))
    writer.start()
    try:
        assert load_settings({}, str(tmp_path))["SECRET_KEY"] == key
    finally:
        writer.join()


def test_laptop_defaults_keep_a_private_secret_and_database(tmp_path):
    settings = load_settings({}, str(tmp_path / "instance"))
    assert settings == load_settings({}, str(tmp_path / "instance"))  # generated once
    for name in ("secret_key", "gatehouse.db"):
        assert (tmp_path / "instance" / name).stat().st_mode & 0o777 == 0o600
    assert settings["SQLALCHEMY_DATABASE_URI"].endswith("gatehouse.db")
    assert settings["BCRYPT_ROUNDS"] == 12


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        ("", "203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("127.0.0.1", "127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("127.0.0.1 10.0.0.0/8", "127.0.0.1", "198.51.100.1, 10.1.1.1", "198.51.100.1"),
        ("127.0.0.1", "127.0.0.1", "spoofed, 198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "127.0.0.1", "not-an-ip", "127.0.0.1"),
    ],
)
def test_client_ip_trusts_forwarded_headers_only_from_trusted_proxies(
    tmp_path, trusted, remote, forwarded, expected
):
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path, ENVIRON={"IDP_TRUSTED_PROXIES": trusted})
    with app.test_request_context(
        environ_base={"REMOTE_ADDR": remote}, headers={"X-Forwarded-For": forwarded}
    ):
        assert client_ip() == expected
