"""Where passkeys are bound: the relying party comes from settings, never from a request."""

import pytest

from idp.core.config import ConfigError, load_settings


def webauthn_settings(tmp_path, **environ):
    settings = load_settings(environ, str(tmp_path))
    return settings["WEBAUTHN_RP_ID"], settings["WEBAUTHN_ORIGIN"]


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, ("", "")),
        ({"IDP_BASE_URL": "https://id.example.org/"}, ("id.example.org", "https://id.example.org")),
        ({"IDP_BASE_URL": "http://localhost:5000"}, ("localhost", "http://localhost:5000")),
        # An IP address is not a relying-party id: passkeys stay off, mail links still work.
        ({"IDP_BASE_URL": "http://127.0.0.1:5000"}, ("", "")),
        (
            {"IDP_BASE_URL": "https://id.example.org", "IDP_WEBAUTHN_RP_ID": "example.org"},
            ("example.org", "https://id.example.org"),
        ),
        (
            {
                "IDP_WEBAUTHN_ORIGIN": "https://login.example.org",
                "IDP_WEBAUTHN_RP_ID": "example.org",
            },
            ("example.org", "https://login.example.org"),
        ),
    ],
)
def test_the_relying_party_comes_from_the_settings(tmp_path, environ, expected):
    assert webauthn_settings(tmp_path, **environ) == expected


@pytest.mark.parametrize(
    "environ",
    [
        {"IDP_BASE_URL": "https://id.example.org", "IDP_WEBAUTHN_RP_ID": "evil.org"},
        {"IDP_BASE_URL": "https://id.example.org", "IDP_WEBAUTHN_RP_ID": "ample.org"},
        {"IDP_WEBAUTHN_RP_ID": "example.org"},
        {"IDP_WEBAUTHN_ORIGIN": "ftp://id.example.org"},
        {"IDP_WEBAUTHN_ORIGIN": "https://id.example.org/path"},
    ],
)
def test_a_relying_party_that_cannot_work_stops_the_start_with_its_variable(tmp_path, environ):
    with pytest.raises(ConfigError, match="IDP_WEBAUTHN"):
        webauthn_settings(tmp_path, **environ)
