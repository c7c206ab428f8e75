"""A site after a year: how many SQL statements, and rows, each page and CLI listing costs.

    python -m bench.many_rows --scale 1      # ~100k users, 1M events, 200k sessions ...
    python -m bench.many_rows --scale 0.01   # the same shapes, a hundredth of the rows

Makes a throwaway PostgreSQL database on IDP_TEST_DATABASE_URL's server (dropped afterwards),
prepares it as `idp setup` does, bulk-inserts rows with SQLAlchemy core executemany, signs in
an administrator and a user with 5,000 sessions through the real sign-in flow, then GETs each
page and runs each CLI listing, counting statements (before_cursor_execute) and rows fetched
(the cursor's rowcount after each SELECT). Compare two scales: a count that grows with the rows
is a page that does not scale. Not part of the test suite.
"""

import argparse
import json
import os
import re
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from idp.core.extensions import db

PASSWORD = "correct horse battery staple"
ADMIN = "bench-admin"
HEAVY = "heavy-user"
BATCH = 10_000


def chunks(rows, size=BATCH):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert(table, rows) -> None:
    for part in chunks(rows):
        db.session.execute(sa.insert(table), part)
    db.session.commit()


def seed(app, scale: float) -> dict:
    from idp.applications.loading import load_application
    from idp.applications.manage import bind, create_application
    from idp.cli import prepare_instance
    from idp.identity.accounts import set_password
    from idp.models import (
        Consent,
        Event,
        FailedAttempts,
        Group,
        Invitation,
        OAuth2Token,
        User,
        UserSession,
        group_members,
    )
    from idp.models.types import utcnow

    n_users = max(30, int(100_000 * scale))
    n_groups = max(5, int(500 * scale))
    n_events = max(100, int(1_000_000 * scale))
    n_sessions = max(50, int(200_000 * scale))
    n_heavy_sessions = max(10, int(5_000 * scale))
    n_tokens = max(50, int(100_000 * scale))
    n_apps = 50
    now = utcnow()
    with app.app_context():
        prepare_instance(echo=lambda *_: None)
        admin = User(username=ADMIN, email="admin@bench.test", attributes={}, is_superuser=True)
        heavy = User(username=HEAVY, email="heavy@bench.test", attributes={})
        set_password(admin, PASSWORD)
        set_password(heavy, PASSWORD)
        db.session.add_all([admin, heavy])
        db.session.commit()
        insert(
            Group.__table__,
            [{"name": f"group-{i:04d}", "created_at": now} for i in range(n_groups)],
        )
        group_ids = db.session.scalars(sa.select(Group.id).order_by(Group.id)).all()
        insert(
            User.__table__,
            [
                {
                    "username": f"user{i:06d}",
                    "email": f"user{i:06d}@example.test",
                    "name": f"User {i}",
                    "is_active": True,
                    "is_superuser": False,
                    "attributes": {},
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(n_users)
            ],
        )
        user_ids = db.session.scalars(sa.select(User.id).order_by(User.id)).all()
        members = set()
        for index, user_id in enumerate(user_ids):
            many = index % 100 == 0  # one user in a hundred is in fifty groups
            for k in range(50 if many else 2):
                members.add((group_ids[(index * 7 + k * 13) % len(group_ids)], user_id))
        members |= {(group_id, heavy.id) for group_id in group_ids[: min(200, len(group_ids))]}
        insert(group_members, [{"group_id": g, "user_id": u} for g, u in members])
        # The big group: a tenth of the users in group-0000.
        insert(
            group_members,
            [
                {"group_id": group_ids[0], "user_id": u}
                for u in user_ids[::10]
                if (group_ids[0], u) not in members
            ],
        )
        apps = []
        for i in range(n_apps):
            slug = f"app-{i:02d}"
            if i % 5 == 0:
                options = {"external_host": f"https://{slug}.example.test"}
                create_application(slug, slug.upper(), "proxy", options)
            else:
                options = {
                    "client_type": "confidential",
                    "redirect_uris": [f"https://{slug}.example.test/cb"],
                }
                create_application(slug, slug.upper(), "oauth2", options)
            db.session.commit()
            application = load_application(slug)
            for group_id in group_ids[i % len(group_ids) :: max(1, len(group_ids) // 5)][:5]:
                bind(application, group=db.session.get(Group, group_id))
            db.session.commit()
            apps.append(application.id)
        insert(
            Event.__table__,
            [
                {
                    "created_at": now - timedelta(seconds=(n_events - i) * 30),
                    "action": ("login", "login_failed", "logout", "authorize_application")[i % 4],
                    "user_id": user_ids[i % len(user_ids)],
                    "username": f"user{i % len(user_ids):06d}",
                    "ip": f"10.0.{i % 250}.{i % 200}",
                    "flow_slug": "default-authentication-flow",
                    "detail": {},
                }
                for i in range(n_events)
            ],
        )
        sessions = [
            {
                "key_hash": f"s{i:063d}",
                "user_id": heavy.id if i < n_heavy_sessions else user_ids[i % len(user_ids)],
                "created_at": now - timedelta(hours=i % 500),
                "last_seen_at": now - timedelta(minutes=i % 900),
                "expires_at": now + timedelta(days=1) if i % 3 else now - timedelta(days=1),
                "ip": "10.1.2.3",
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0",
            }
            for i in range(n_sessions)
        ]
        insert(UserSession.__table__, sessions)
        insert(
            OAuth2Token.__table__,
            [
                {
                    "application_id": apps[1 + i % (n_apps - 1)],
                    "user_id": heavy.id if i % 20 == 0 else user_ids[i % len(user_ids)],
                    "family": f"f{i:063d}",
                    "grant_type": "authorization_code",
                    "scope": "openid profile email",
                    "access_token_hash": f"a{i:063d}",
                    "refresh_token_hash": f"r{i:063d}",
                    "issued_at": now - timedelta(minutes=i % 5000),
                    "access_expires_at": now + timedelta(minutes=5)
                    if i % 2
                    else now - timedelta(hours=1),
                }
                for i in range(n_tokens)
            ],
        )
        insert(
            Consent.__table__,
            [
                {
                    "user_id": heavy.id if i < 40 else user_ids[i % len(user_ids)],
                    "subject": f"sub-{i}",
                    "application_id": apps[1 + i % (n_apps - 1)],
                    "scopes": ["openid", "profile"],
                    "terms_digest": "",
                    "given_at": now,
                }
                for i in range(n_tokens)
            ],
        )
        insert(
            Invitation.__table__,
            [
                {
                    "token_hash": f"i{i:063d}",
                    "name": f"invite {i}",
                    "fixed_data": {},
                    "single_use": True,
                    "created_by_id": admin.id,
                    "created_at": now,
                    "expires_at": now + timedelta(days=7),
                }
                for i in range(max(20, int(5_000 * scale)))
            ],
        )
        insert(
            FailedAttempts.__table__,
            [
                {
                    "scope": "ip",
                    "key": f"10.9.{i // 250}.{i % 250}",
                    "failures": 3,
                    "last_failure_at": now,
                }
                for i in range(max(20, int(50_000 * scale)))
            ],
        )
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        return {
            "admin_id": admin.id,
            "heavy_id": heavy.id,
            "big_group": group_ids[0],
            "user_id": user_ids[len(user_ids) // 2],
            "many_groups_user": user_ids[0],
        }


class Meter:
    def __init__(self):
        self.statements = 0
        self.rows = 0
        self.texts = []

    def before(self, conn, cursor, statement, parameters, context, executemany):
        self.statements += 1
        self.texts.append(statement)

    def after(self, conn, cursor, statement, parameters, context, executemany):
        if cursor.description is not None and cursor.rowcount and cursor.rowcount > 0:
            self.rows += cursor.rowcount

    def reset(self):
        self.statements = self.rows = 0
        self.texts = []


def sign_in(app, username):
    client = app.test_client()
    client.environ_base["HTTP_SEC_FETCH_SITE"] = "same-origin"
    slug = "default-authentication-flow"
    token = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
    page = client.get(f"/flow/{slug}/").get_data(as_text=True)
    page = client.post(
        f"/flow/{slug}/",
        data={"uid_field": username, "csrf_token": token.search(page)[1]},
        follow_redirects=True,
    ).get_data(as_text=True)
    response = client.post(
        f"/flow/{slug}/", data={"password": PASSWORD, "csrf_token": token.search(page)[1]}
    )
    assert response.status_code in (302, 303), response.status_code
    return client


def measure(app, ids: dict) -> list[dict]:
    meter = Meter()
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", meter.before)
    sa.event.listen(engine, "after_cursor_execute", meter.after)
    admin = sign_in(app, ADMIN)
    heavy = sign_in(app, HEAVY)
    pages = [
        (admin, "/admin/"),
        (admin, "/admin/health"),
        (admin, "/admin/users"),
        (admin, "/admin/users?q=user0001"),
        (admin, "/admin/users?q=nobody-like-this"),
        (admin, "/admin/users?page=100"),
        (admin, "/admin/users?page=200"),
        (admin, f"/admin/users/{ids['user_id']}"),
        (admin, f"/admin/users/{ids['many_groups_user']}"),
        (admin, f"/admin/users/{ids['heavy_id']}"),
        (admin, f"/admin/users/{ids['heavy_id']}/edit"),
        (admin, "/admin/users/new"),
        (admin, "/admin/groups"),
        (admin, f"/admin/groups/{ids['big_group']}"),
        (admin, "/admin/groups/new"),
        (admin, "/admin/events"),
        (admin, "/admin/events?action=login"),
        (admin, "/admin/events?username=user000123"),
        (admin, "/admin/events?since=2026-01-01&until=2026-02-01"),
        (admin, "/admin/events?page=200"),
        (admin, "/admin/applications"),
        (admin, "/admin/applications/app-01"),
        (admin, "/admin/applications/app-01/edit"),
        (admin, "/admin/applications/app-01/bindings"),
        (admin, "/admin/applications/app-01/bindings/new"),
        (admin, "/admin/applications/app-01/tokens"),
        (admin, f"/admin/applications/app-01/tokens?username={HEAVY}"),
        (admin, "/admin/applications/app-01/preview"),
        (admin, "/admin/applications/app-00/forward-auth-test"),
        (admin, "/admin/invitations"),
        (admin, "/admin/invitations/new"),
        (admin, "/admin/flows"),
        (admin, "/admin/flows/default-authentication-flow/"),
        (admin, "/admin/flows/default-authentication-flow/policies"),
        (admin, "/admin/flows/default-authentication-flow/policies/new"),
        (admin, "/admin/flows/default-authentication-flow/simulate"),
        (admin, "/admin/policies"),
        (admin, "/admin/policies/new/expression"),
        (admin, "/admin/stages"),
        (admin, "/admin/scope-mappings"),
        (admin, "/admin/settings"),
        (admin, "/metrics"),
        (heavy, "/me"),
        (heavy, "/me/applications"),
        (heavy, "/me/second-factor"),
        (heavy, "/application/o/app-01/.well-known/openid-configuration"),
        (heavy, "/application/o/app-01/jwks/"),
        (
            heavy,
            "/application/o/authorize/?client_id=CLIENT&response_type=code&scope=openid"
            "&redirect_uri=https://app-01.example.test/cb&state=s&nonce=n",
        ),
    ]
    with app.app_context():
        from idp.models import Provider

        client_id = db.session.scalar(
            sa.select(Provider.client_id).where(Provider.type == "oauth2").order_by(Provider.id)
        )
    results = []
    for client, path in pages:
        path = path.replace("CLIENT", client_id or "")
        client.get(path)  # warm: caches filled as on a worker that has served before
        meter.reset()
        response = client.get(path)
        results.append(_row("GET " + path, response.status_code, meter))
    proxy_headers = {
        "X-Forwarded-Host": "app-00.example.test",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Uri": "/",
        "X-Forwarded-Method": "GET",
    }
    for _ in range(2):
        meter.reset()
        response = heavy.get("/api/authz/forward-auth", headers=proxy_headers)
    results.append(_row("GET /api/authz/forward-auth", response.status_code, meter))
    runner = app.test_cli_runner()
    for args in (
        ["users", "list"],
        ["apps", "list"],
        ["flows", "list"],
        ["keys", "list"],
        ["invitations", "list"],
        ["settings", "show"],
        ["brand", "show"],
        ["maintenance", "purge"],
    ):
        meter.reset()
        result = runner.invoke(args=args)
        results.append(_row("idp " + " ".join(args), result.exit_code, meter, len(result.output)))
    sa.event.remove(engine, "before_cursor_execute", meter.before)
    sa.event.remove(engine, "after_cursor_execute", meter.after)
    return results


def _row(what, status, meter, output=None) -> dict:
    row = {"what": what, "status": status, "statements": meter.statements, "rows": meter.rows}
    if output is not None:
        row["output_chars"] = output
    if os.environ.get("BENCH_SHOW_SQL"):
        row["sql"] = meter.texts
    return row


def main() -> None:
    from idp import create_app
    from tests.conftest import POSTGRES_URL, throwaway_postgres_database

    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--keep", help="use (and keep) this database URL instead")
    arguments = parser.parse_args()
    if not POSTGRES_URL and not arguments.keep:
        sys.exit("Set IDP_TEST_DATABASE_URL to a PostgreSQL server.")
    folder = Path(tempfile.mkdtemp())

    def run(url):
        app = create_app(
            {
                "INSTANCE_PATH": str(folder / "instance"),
                "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-gatehouse",
                "SQLALCHEMY_DATABASE_URI": url,
                "BCRYPT_ROUNDS": 4,
                "ENVIRON": {**os.environ, "IDP_TRUSTED_PROXIES": "127.0.0.1"},
            }
        )
        started = time.monotonic()
        ids = seed(app, arguments.scale)
        print(f"seeded in {time.monotonic() - started:.0f} s", file=sys.stderr)
        results = measure(app, ids)
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        return results

    if arguments.keep:
        results = run(arguments.keep)
    else:
        with throwaway_postgres_database("gatehouse_many_rows") as url:
            results = run(url)
    text = json.dumps(results, indent=1)
    if arguments.out:
        arguments.out.write_text(text)
    for row in results:
        print(f"{row['what'][:70]:72} {row['status']:>4} {row['statements']:>4} {row['rows']:>8}")


if __name__ == "__main__":
    main()
