"""OpenID Connect throughput of one worker: one process, one thread, the Flask test client
(no network), bcrypt out of the way (the user is signed in once, before timing).

Run with `python -m bench.oidc [--seconds 5] [--postgres SERVER_URL]`. Prints one JSON document:
- `authorization_code_round_trips_per_second`: GET /application/o/authorize/ (signed in,
  implicit consent) -> code -> POST /application/o/token/ (PKCE, client_secret_basic), with
  an ID token and a JWT access token signed ES256.
- `client_credentials_tokens_per_second`, `refresh_tokens_per_second` (each refresh rotates
  the refresh token and marks the old one used).
- `queries`: SQL statements per authorization and per token request.
Compare within one run; the absolute numbers depend on the machine.
"""

import argparse
import base64
import hashlib
import json
import logging
import re
import secrets
import tempfile
import time
from contextlib import contextmanager
from urllib.parse import parse_qs, urlencode, urlsplit

import sqlalchemy as sa
from sqlalchemy import event

from idp import create_app
from idp.applications.manage import create_application
from idp.core.extensions import db
from idp.identity.accounts import set_password
from idp.models import User

PASSWORD = "correct horse battery staple"
REDIRECT_URI = "https://rp.example.test/callback"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _prepare(database_url: str | None):
    folder = tempfile.mkdtemp(prefix="gatehouse-bench-oidc-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{folder}/bench.db",
            "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-gatehouse",
            "INSTANCE_PATH": folder,
            "BCRYPT_ROUNDS": 4,
            "WTF_CSRF_ENABLED": True,
        }
    )
    with app.app_context():
        from idp.cli import prepare_instance

        prepare_instance(echo=lambda *_: None)
        user = User(username="bench", email="bench@example.test", is_active=True)
        set_password(user, PASSWORD)
        db.session.add(user)
        created = create_application(
            "bench",
            "Bench",
            "oauth2",
            {"redirect_uris": [REDIRECT_URI]},
            authorization_flow_slug="default-provider-authorization-implicit-consent",
        )
        db.session.commit()
        return app, created.facts["client_id"], created.secrets["client_secret"]


def _sign_in(client) -> None:
    flow = "/flow/default-authentication-flow/"
    for field, value in (("uid_field", "bench"), ("password", PASSWORD)):
        page = client.get(flow).get_data(as_text=True)
        client.post(flow, data={"csrf_token": CSRF.search(page).group(1), field: value})


def _challenge(verifier: str) -> str:
    return (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )


def _round_trip(client, client_id, secret, scope="openid profile email") -> dict:
    verifier = secrets.token_urlsafe(48)
    query = urlencode({
        "response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI,
        "scope": scope, "state": "s", "nonce": "n",
        "code_challenge": _challenge(verifier), "code_challenge_method": "S256",
    })  # fmt: skip
    # As a browser sent by the application (cross-site): answered with a redirect. Without
    # Fetch Metadata Gatehouse answers with a page that moves on (idp.core.http.leave_site).
    answer = client.get(
        f"/application/o/authorize/?{query}", headers={"Sec-Fetch-Site": "cross-site"}
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    token = client.post(
        "/application/o/token/",
        data={"grant_type": "authorization_code", "code": code,
              "redirect_uri": REDIRECT_URI, "code_verifier": verifier},
        headers=_basic(client_id, secret),
    )  # fmt: skip
    assert token.status_code == 200, token.get_data(as_text=True)
    return token.get_json()


def _basic(client_id: str, secret: str) -> dict:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _rate(action, seconds: float) -> float:
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        action()
        count += 1
    return round(count / (time.perf_counter() - started), 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--postgres",
        metavar="SERVER_URL",
        help="run on a throwaway database on this server, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    )
    arguments = parser.parse_args()
    logging.disable(logging.INFO)  # one log line per request would measure the terminal
    if arguments.postgres:
        with _throwaway_database(arguments.postgres) as url:
            _run(arguments, url)
    else:
        _run(arguments, None)


@contextmanager
def _throwaway_database(server_url: str):
    name = f"gatehouse_bench_oidc_{secrets.token_hex(4)}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(arguments, database_url) -> None:
    app, client_id, secret = _prepare(database_url)
    client = app.test_client()
    _sign_in(client)
    basic = {
        "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    }
    _round_trip(client, client_id, secret)  # keys are made on first use

    statements = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(1))
    _round_trip(client, client_id, secret)
    round_trip_queries = len(statements)

    refresh = {
        "value": _round_trip(client, client_id, secret, "openid offline_access")["refresh_token"]
    }

    def refresh_once():
        answer = client.post(
            "/application/o/token/",
            data={"grant_type": "refresh_token", "refresh_token": refresh["value"]},
            headers=basic,
        )
        refresh["value"] = answer.get_json()["refresh_token"]

    def service_token():
        answer = client.post(
            "/application/o/token/", data={"grant_type": "client_credentials"}, headers=basic
        )
        assert answer.status_code == 200

    result = {
        "benchmark": "oidc",
        "worker": "one process, one thread, Flask test client (no network)",
        "database": "postgresql (throwaway)" if database_url else "sqlite (temporary file)",
        "authorization_code_round_trips_per_second": _rate(
            lambda: _round_trip(client, client_id, secret), arguments.seconds
        ),
        "refresh_tokens_per_second": _rate(refresh_once, arguments.seconds),
        "client_credentials_tokens_per_second": _rate(service_token, arguments.seconds),
        "queries_per_round_trip": round_trip_queries,
        # The same worker answering its cheapest page, in the same run: the yardstick.
        "baseline_healthz_per_second": _rate(lambda: client.get("/healthz"), arguments.seconds),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
