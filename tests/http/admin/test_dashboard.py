import re
from datetime import UTC, datetime, timedelta

from idp.admin.dashboard.activity import HOURS, hourly_activity
from idp.core.extensions import db
from idp.models import Event
from tests.factories import make_user
from tests.http.admin.conftest import text
from tests.query_plans import sqlite_plan, statements_sent

NOW = datetime(2024, 5, 31, 14, 20, tzinfo=UTC)


def add_events(*events: tuple[str, datetime]) -> None:
    db.session.add_all(
        Event(action=action, username="someone", created_at=moment, detail={})
        for action, moment in events
    )
    db.session.commit()


def test_the_dashboard_counts_users_sessions_flows_stages_and_policies(app, admin):
    with app.app_context():
        make_user()
    page = text(admin.get("/admin/"))
    found = re.findall(r'<span class="number">(\d+)</span> ([a-z ]+)</li>', page)
    counts = {label: number for number, label in found}
    assert counts["users"] == "2"
    assert counts["active session"] == "1"  # one of them: never "1 active sessions"
    assert int(counts["flows"]) >= 8 and int(counts["stages"]) > 0
    assert "policies" in counts


def test_sign_ins_and_failures_are_counted_per_hour_over_the_last_day(app_context):
    add_events(
        ("login", NOW - timedelta(minutes=10)),
        ("login", NOW - timedelta(minutes=15)),
        ("login_failed", NOW - timedelta(hours=5)),
        ("passkey_login_failed", NOW - timedelta(hours=5, minutes=1)),
        ("login", NOW - timedelta(hours=23, minutes=30)),
        ("login", NOW - timedelta(hours=25)),  # too old
        ("logout", NOW - timedelta(minutes=5)),  # not charted
    )
    hours = hourly_activity(NOW)
    assert len(hours) == HOURS
    assert hours[-1].start == datetime(2024, 5, 31, 14, tzinfo=UTC)
    assert (hours[-1].sign_ins, hours[-1].failures) == (2, 0)
    assert hours[-6].start.hour == 9 and hours[-6].failures == 2  # a password, a passkey
    assert hours[0].start == datetime(2024, 5, 30, 15, tzinfo=UTC)
    assert sum(hour.sign_ins for hour in hours) == 2  # 23 h 30 min ago fell before hour 0


def test_the_chart_is_inline_svg_without_script_or_style(app, admin):
    with app.app_context():
        add_events(("login_failed", datetime.now(UTC)), ("login_failed", datetime.now(UTC)))
    page = text(admin.get("/admin/"))
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert "<script" not in svg and "style=" not in svg
    assert 'class="bar failures"' in svg and "failures: 2</title>" in svg
    assert "Sign-ins: 1" in page  # the administrator's own sign-in
    assert "Failures: 2" in page


def test_the_dashboard_shows_the_ten_latest_events(app, admin):
    start = datetime.now(UTC) - timedelta(hours=1)
    with app.app_context():
        add_events(
            *((f"test_event_{index:02}", start + timedelta(seconds=index)) for index in range(15))
        )
    page = text(admin.get("/admin/"))
    # The administrator's sign-in (two events) came last, then the 8 latest of these.
    assert "test_event_14" in page and "test_event_07" in page
    assert "test_event_06" not in page
    shown = re.findall(r"<code>([a-z_0-9]+)</code>", page)
    assert len(shown) == 10


def test_the_dashboard_query_count_does_not_grow_with_the_events(app, admin, query_counter):
    moment = datetime.now(UTC) - timedelta(minutes=30)
    with app.app_context():
        add_events(*(("login", moment) for _ in range(3)))
    few = query_counter.count(lambda: admin.get("/admin/"))
    with app.app_context():
        add_events(
            *(
                (action, moment - timedelta(hours=index % 30))
                for index in range(300)
                for action in ("login", "login_failed")
            )
        )
    many = query_counter.count(lambda: admin.get("/admin/"))
    assert few == many
    assert many <= 5


def test_the_dashboard_counts_live_sessions_by_their_expiry_not_a_pass_over_all(
    app, admin, query_counter
):
    """Counting live sessions read every session, ended ones kept 30 days included (30 to
    40 ms at 200,000 on PostgreSQL): the count finds the unexpired by ix_user_sessions_expires_at
    (SQLite's plan checked here; bench/many_rows.py and the migration have PostgreSQL's), and
    costs the same statements with 1 session or 301."""
    import sqlalchemy as sa

    from idp.models import UserSession
    from idp.models.types import utcnow

    admin.get("/admin/")  # a worker that has shown the page before
    few = query_counter.count(lambda: admin.get("/admin/"))
    with app.app_context():
        user_id = make_user().id
        past = utcnow() - timedelta(days=2)
        ended = [
            {"key_hash": f"{index:064x}", "user_id": user_id, "expires_at": past}
            for index in range(300)
        ]
        db.session.execute(sa.insert(UserSession), ended)
        db.session.commit()
        engine = db.engine
    with statements_sent(engine) as sent:
        page = text(admin.get("/admin/"))
        many = query_counter.count(lambda: admin.get("/admin/"))
    assert few == many
    assert '<span class="number">1</span> active session</li>' in page
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's plan for a few hundred rows is a scan whatever the indexes
    (statement, parameters), *_ = [
        (statement, parameters)
        for statement, parameters in sent
        if "FROM user_sessions" in statement and "AS sessions" in statement
    ]
    steps = [step for step in sqlite_plan(engine, statement, parameters) if "user_sessions" in step]
    assert steps and all("USING INDEX ix_user_sessions_expires_at" in step for step in steps), steps
