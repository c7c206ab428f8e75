"""Pages and commands cost the same number of SQL statements with 3 rows or 30: a site after a
year (100k users, 1M events; bench/many_rows.py measures one) must not pay per row. Counts
only, never times."""

from idp.applications.loading import load_application
from idp.applications.manage import bind, create_application
from idp.core.extensions import db
from tests.factories import PASSWORD, make_group, make_user


def add_proxied_applications(up_to: int, group_name: str) -> None:
    """Forward-auth applications app-00.. up to `up_to` in all, each bound to the group."""
    from idp.identity.accounts import find_group

    group = find_group(group_name)
    for index in range(up_to):
        slug = f"app-{index:02d}"
        if load_application(slug) is None:
            create_application(
                slug, slug.upper(), "proxy", {"external_host": f"https://{slug}.example.test"}
            )
            db.session.commit()
            bind(load_application(slug), group=group)
            db.session.commit()


def statements_at(app, query_counter, sizes, grow, request) -> dict[int, int]:
    """For each size: grow the data to it, warm the page once, count the second request."""
    counts = {}
    for size in sizes:
        with app.app_context():
            grow(size)
        request()
        counts[size] = query_counter.count(request)
    return counts


def test_my_applications_cost_the_same_with_3_or_30_applications(app, client, flows, query_counter):
    with app.app_context():
        make_user("mia", groups=[make_group("staff")])
    flows.sign_in("mia", PASSWORD)

    def page():
        response = client.get("/me/applications")
        assert response.status_code == 200
        return response

    counts = statements_at(
        app, query_counter, (3, 30), lambda n: add_proxied_applications(n, "staff"), page
    )
    assert counts[3] == counts[30], counts
    assert "APP-29" in page().get_data(as_text=True)


def add_users(up_to: int, group_name: str) -> None:
    """user0000.. up to `up_to` in all, inserted in one executemany, each in the group."""
    import sqlalchemy as sa

    from idp.identity.accounts import find_group
    from idp.models import User, group_members

    have = db.session.scalar(sa.select(sa.func.count()).select_from(User))
    rows = [{"username": f"user{index:04d}", "attributes": {}} for index in range(have, up_to)]
    if rows:
        db.session.execute(sa.insert(User), rows)
        group = find_group(group_name)
        new = db.session.scalars(
            sa.select(User.id).where(User.username.in_(r["username"] for r in rows))
        )
        db.session.execute(
            sa.insert(group_members), [{"group_id": group.id, "user_id": i} for i in new]
        )
        db.session.commit()


def test_the_users_list_command_costs_the_same_with_3_or_1200_users(app, runner, query_counter):
    with app.app_context():
        staff = make_group("staff")
        make_group("extra")
        make_user("aaron", groups=[staff], superuser=True)
    outputs = {}

    def listing():
        result = runner.invoke(args=["users", "list"])
        assert result.exit_code == 0, result.output
        outputs["last"] = result.output

    counts = statements_at(app, query_counter, (3, 1200), lambda n: add_users(n, "staff"), listing)
    assert counts[3] == counts[1200], counts
    lines = outputs["last"].splitlines()
    assert len(lines) == 1200
    assert lines[0].split()[0] == "aaron" and lines[0].split()[2:] == ["superuser", "staff"]
    assert lines[-1].split()[0] == "user1199"


def test_signing_out_everywhere_ends_70000_sessions_without_an_in_list_of_each(app, client, flows):
    """A robot account signing in every few minutes for a year, its ended sessions never
    purged: revoking them named each in one IN list, past PostgreSQL's 65,535 parameters
    (SQLite's 32,766): a 500 on "sign out everywhere" and on disabling the account."""
    import sqlalchemy as sa

    from idp.models import UserSession
    from idp.models.types import utcnow

    with app.app_context():
        robot = make_user("robot").id
        past = utcnow()
        rows = [
            {"key_hash": f"{index:064x}", "user_id": robot, "expires_at": past}
            for index in range(70_000)
        ]
        db.session.execute(sa.insert(UserSession), rows)
        db.session.commit()
    flows.sign_in("robot", PASSWORD)
    page = client.get("/me").get_data(as_text=True)
    from tests.conftest import csrf_token

    response = client.post("/me/sessions/others/revoke", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 303
    with app.app_context():
        left = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(UserSession)
            .where(UserSession.user_id == robot, UserSession.revoked_at.is_(None))
        )
    assert left == 1  # this browser's


def add_invitations(up_to: int) -> None:
    """Invitations "invite 0000".. up to `up_to` in all, in one executemany; every third one
    revoked, each with fixed data the listing does not show."""
    import sqlalchemy as sa

    from idp.models import Invitation
    from idp.models.types import utcnow

    have = db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))
    now = utcnow()
    rows = [
        {
            "token_hash": f"{index:064x}",
            "name": f"invite {index:04d}",
            "fixed_data": {"email": f"guest{index}@example.test"},
            "revoked_at": now if index % 3 == 2 else None,
        }
        for index in range(have, up_to)
    ]
    if rows:
        db.session.execute(sa.insert(Invitation), rows)
        db.session.commit()


def test_the_invitations_list_command_streams_3_or_1200_invitations(app, runner, query_counter):
    """It held every invitation, fixed data and all, in memory before printing one (5,000 in
    bench/many_rows.py); now one statement, read in batches as `idp users list` is."""
    import sqlalchemy as sa

    with app.app_context():
        engine = db.engine
    streamed = []

    def note(conn, cursor, statement, parameters, context, executemany):
        if query_counter.active:
            streamed.append((context.execution_options.get("yield_per"), statement))

    outputs = {}

    def listing():
        result = runner.invoke(args=["invitations", "list"])
        assert result.exit_code == 0, result.output
        outputs["last"] = result.output

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        counts = statements_at(app, query_counter, (3, 1200), add_invitations, listing)
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)
    assert counts[3] == counts[1200] == 1, counts
    assert streamed and all(batch == 1000 for batch, _ in streamed), streamed
    assert "fixed_data" not in streamed[-1][1]
    lines = outputs["last"].splitlines()
    assert len(lines) == 1200
    assert lines[0].split()[:2] == ["1", "active"] and lines[0].endswith("invite 0000")
    assert lines[2].split()[1] == "revoked"
    assert lines[-1].split()[0] == "1200" and lines[-1].endswith("invite 1199")
