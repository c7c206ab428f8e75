"""OpenID Connect on its hot paths: worker CPU per answer of each endpoint an app uses, against
a static 200 of the same worker, measured from outside the process (/proc), interleaved, in one
run, on SQLite and PostgreSQL.

Run with `python -m bench.oidc [--rounds 300] [--quick] [--database sqlite|postgresql|both]`.
One gunicorn worker with the shipped gunicorn.conf.py; an application signs people in with the
implicit-consent authorization flow. The bench user signs in once; then each round:
- `authorize`: GET /application/o/authorize/ by the signed-in browser (sent from the app's site)
  answered with a code;
- `token_code`: the app's POST /application/o/token/ with that code (Basic, PKCE, no cookie),
  answered with an ID token, an access token and a refresh token, signed ES256;
- `userinfo`: GET /application/o/userinfo/ with that access token;
- `token_refresh`: the refresh token exchanged (and rotated);
- `token_client_credentials`: a token for the app itself;
- `static`: GET /healthz.
Prints one JSON document: per database, `cpu_ms` per answer, `ratio_to_static`,
`answers_per_worker_cpu_second` and, on PostgreSQL, the database server's `db_cpu_ms`. Compare
within one run; the absolute numbers depend on the machine and its load.
"""

import argparse
import base64
import hashlib
import json
import secrets
import sys
import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from bench.load import create_database, drop_database, postgres_version
from bench.signin import (
    SERVER_URL,
    Browser,
    Gunicorn,
    Meter,
    gatehouse_environment,
    gatehouse_sign_in,
    prepare_gatehouse,
    setting_up,
)

REDIRECT_URI = "https://app.bench.test/callback"
AUTHORIZE = "/application/o/authorize/"
TOKEN = "/application/o/token/"
USERINFO = "/application/o/userinfo/"
STEPS = (
    "authorize",
    "token_code",
    "userinfo",
    "token_refresh",
    "token_client_credentials",
    "static",
)


def prepare_application(env: dict) -> tuple[str, str]:
    """An OpenID Connect application that asks no consent; its client id and secret."""
    from idp.applications.manage import create_application
    from idp.core.extensions import db

    with setting_up(env):
        created = create_application(
            "bench-oidc",
            "Bench OIDC",
            "oauth2",
            {"redirect_uris": [REDIRECT_URI]},
            authorization_flow_slug="default-provider-authorization-implicit-consent",
        )
        db.session.commit()
    return created.facts["client_id"], created.secrets["client_secret"]


class App:
    """What the application's own server sends: no cookie, its client secret in Basic."""

    def __init__(self, port: int, client_id: str, secret: str):
        self.http = Browser(port)
        self.client_id = client_id
        pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.basic = {"Authorization": f"Basic {pair}"}

    def token(self, form: dict) -> dict:
        self.http.cookies.clear()
        status, _headers, text = self.http.request("POST", TOKEN, form, self.basic)
        if status != 200:
            raise RuntimeError(f"the token endpoint answered {status}: {text[:200]}")
        return json.loads(text)

    def userinfo(self, access_token: str) -> None:
        self.http.cookies.clear()
        bearer = {"Authorization": f"Bearer {access_token}"}
        status, _headers, text = self.http.request("GET", USERINFO, headers=bearer)
        if status != 200:
            raise RuntimeError(f"userinfo answered {status}: {text[:200]}")


def authorize(browser: Browser, client_id: str, verifier: str) -> str:
    """The signed-in browser's authorization request; the code it is sent back with."""
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email offline_access", "state": "s", "nonce": "n",
        "code_challenge": challenge.rstrip(b"=").decode(), "code_challenge_method": "S256",
    })  # fmt: skip
    # Sent from the app's site: answered with a redirect (not the page that moves on).
    status, headers, _text = browser.request(
        "GET", f"{AUTHORIZE}?{query}", headers={"Sec-Fetch-Site": "cross-site"}
    )
    if status != 302 or not headers.get("Location", "").startswith(REDIRECT_URI):
        raise RuntimeError(f"the authorization endpoint answered {status}, not a code")
    return parse_qs(urlsplit(headers["Location"]).query)["code"][0]


def one_round(meter: Meter, browser: Browser, app: App, refresh: dict) -> None:
    verifier = secrets.token_urlsafe(48)
    code = meter.measure("authorize", lambda: authorize(browser, app.client_id, verifier))
    exchange = {
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
    }  # fmt: skip
    tokens = meter.measure("token_code", lambda: app.token(exchange))
    meter.measure("userinfo", lambda: app.userinfo(tokens["access_token"]))
    renewal = {"grant_type": "refresh_token", "refresh_token": refresh["token"]}
    refresh["token"] = meter.measure("token_refresh", lambda: app.token(renewal))["refresh_token"]
    service = {"grant_type": "client_credentials"}
    meter.measure("token_client_credentials", lambda: app.token(service))
    meter.measure("static", lambda: browser.request("GET", "/healthz"))


def run_on(kind: str, rounds: int, folder: Path, server_url: str = SERVER_URL) -> dict:
    folder = folder / kind
    folder.mkdir()
    database = None
    if kind == "sqlite":
        url = f"sqlite:///{folder / 'gatehouse.db'}"
    else:
        database, url = create_database(server_url)
    try:
        env = gatehouse_environment(url, folder)
        prepare_gatehouse(env)
        client_id, secret = prepare_application(env)
        server = Gunicorn("wsgi:app", env, folder / "gunicorn.log")
        try:
            server.wait_until_ready()
            [worker] = server.worker_pids()
            meter = Meter(worker, database)
            with Browser(server.port) as browser:
                gatehouse_sign_in(browser, None)
                app = App(server.port, client_id, secret)
                verifier = secrets.token_urlsafe(48)
                first = app.token({
                    "grant_type": "authorization_code",
                    "code": authorize(browser, client_id, verifier),
                    "redirect_uri": REDIRECT_URI, "code_verifier": verifier,
                })  # fmt: skip
                refresh = {"token": first["refresh_token"]}
                for _round in range(rounds):
                    meter.refresh_backends()
                    one_round(meter, browser, app, refresh)
                app.http.close()
        finally:
            server.stop()
    finally:
        if database:
            drop_database(server_url, database)
    return summary(kind, rounds, meter, server_url)


def summary(kind: str, rounds: int, meter: Meter, server_url: str) -> dict:
    cpu = {step: meter.ms_per_request(step) for step in STEPS}
    static = cpu["static"]
    result = {
        "database": "sqlite" if kind == "sqlite" else "postgresql " + postgres_version(server_url),
        "rounds": rounds,
        "cpu_ms": cpu,
        "ratio_to_static": {
            step: round(ms / static, 2) if static else None for step, ms in cpu.items()
        },
        "answers_per_worker_cpu_second": {
            step: round(1000 / ms, 1) if ms else None for step, ms in cpu.items()
        },
    }
    if kind != "sqlite":
        result["db_cpu_ms"] = {step: meter.ms_per_request(step, db=True) for step in STEPS}
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--quick", action="store_true", help="a short run (30 rounds)")
    parser.add_argument(
        "--database", choices=("sqlite", "postgresql", "both"), default="both"
    )  # fmt: skip
    arguments = parser.parse_args(argv)
    rounds = 30 if arguments.quick else arguments.rounds
    kinds = ("sqlite", "postgresql") if arguments.database == "both" else (arguments.database,)
    with tempfile.TemporaryDirectory(prefix="bench-oidc-") as folder:
        result = {"bench": "oidc"} | {kind: run_on(kind, rounds, Path(folder)) for kind in kinds}
    json.dump(result, sys.stdout, indent=2)
    print()
    return result


if __name__ == "__main__":
    main()
