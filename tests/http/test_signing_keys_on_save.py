"""OpenID Connect signing keys are made when an application is saved (admin create and edit,
`idp apps create`, a flow file's import) and by `idp setup` for applications saved without
them: a GET of the key set never writes, and the keys are published before a client fetches
them for the first time."""

import httpx
from sqlalchemy import delete, event, select

from idp.core.extensions import db
from idp.models import SigningKey
from tests.factories import make_group, make_user
from tests.http.admin.conftest import post, signed_in
from tests.http.admin.test_applications import new_form
from tests.http.applications.oidc import make_client
from tests.http.test_transfer_applications import APPLICATIONS, write


def algorithms_with_keys(app) -> dict[str, int]:
    with app.app_context():
        rows = db.session.scalars(select(SigningKey)).all()
        counts = {}
        for row in rows:
            counts[row.algorithm] = counts.get(row.algorithm, 0) + 1
        return counts


def forget_keys(app) -> None:
    with app.app_context():
        db.session.execute(delete(SigningKey))
        db.session.commit()


def test_the_admin_makes_keys_on_create_and_on_a_change_of_algorithm(app):
    with app.app_context():
        admin = signed_in(app, make_user(username="root", superuser=True).username)
    created = post(admin, "/admin/applications/new/oauth2", new_form(app))
    assert created.status_code == 200
    assert algorithms_with_keys(app) == {"ES256": 2}  # the current key and the next
    edited = post(
        admin,
        "/admin/applications/grafana/edit",
        new_form(app, **{"option-signing_algorithm": "RS256"}),
    )
    assert edited.status_code == 303
    assert algorithms_with_keys(app) == {"ES256": 2, "RS256": 2}


def test_the_command_line_and_an_import_make_keys(app, runner, tmp_path):
    result = runner.invoke(
        args=["apps", "create", "wiki2", "--name", "Wiki", "--oidc",
              "--redirect-uri", "https://wiki.example.test/callback"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert algorithms_with_keys(app) == {"ES256": 2}
    with app.app_context():
        make_user("alice", groups=[make_group("staff")])
    imported = runner.invoke(args=["flows", "import", write(tmp_path, APPLICATIONS)])
    assert imported.exit_code == 0, imported.output
    assert algorithms_with_keys(app) == {"ES256": 2, "RS256": 2}  # grafana signs with RS256


def test_setup_makes_the_keys_an_older_database_lacks(tmp_path):
    from tests.conftest import make_test_app

    app = make_test_app(tmp_path / "fresh")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["setup"]).exit_code == 0  # a migrated database
    make_client(app, signing_algorithm="RS256")
    forget_keys(app)
    result = runner.invoke(args=["setup"])
    assert result.exit_code == 0, result.output
    assert algorithms_with_keys(app) == {"RS256": 2}
    assert runner.invoke(args=["setup"]).exit_code == 0
    assert algorithms_with_keys(app) == {"RS256": 2}  # made once


def test_the_key_set_only_reads(app, live_server):
    make_client(app)
    forget_keys(app)
    with app.app_context():
        engine = db.engine
    writes = []

    def note_writes(_conn, _cursor, sql, *_args):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            writes.append(sql)

    event.listen(engine, "before_cursor_execute", note_writes)
    try:
        answer = httpx.get(live_server("/application/o/rp/jwks/"))
    finally:
        event.remove(engine, "before_cursor_execute", note_writes)
    assert answer.status_code == 200 and answer.json() == {"keys": []}
    assert writes == [] and algorithms_with_keys(app) == {}
    make_client(app, slug="rp2")
    assert len(httpx.get(live_server("/application/o/rp/jwks/")).json()["keys"]) == 2
