"""Admin pages of a site with many rows: each costs the same statements, and offers the same
bounded number of choices, with 3 groups or 130 (bench/many_rows.py measures 500)."""

import re

import pytest
import sqlalchemy as sa

from idp.admin.group_picker import PICKER_LIMIT
from idp.core.extensions import db
from idp.models import Group, PolicyBinding
from tests.factories import make_user
from tests.http.admin.conftest import post, text
from tests.query_plans import sqlite_plan, statements_sent

MANY = PICKER_LIMIT + 30


def add_groups(up_to: int) -> None:
    """group-000.. up to `up_to` groups in all, in one executemany."""
    have = db.session.scalar(sa.select(sa.func.count()).select_from(Group))
    rows = [{"name": f"group-{index:03d}"} for index in range(have, up_to)]
    if rows:
        db.session.execute(sa.insert(Group), rows)
        db.session.commit()


def options_in(page: str) -> int:
    return len(re.findall(r"<option ", page))


def cost_at_each_size(app, admin, query_counter, url) -> dict:
    costs = {}
    for size in (3, MANY):
        with app.app_context():
            add_groups(size)
        admin.get(url)  # a worker that has shown the page before
        pages = []
        statements = query_counter.count(lambda pages=pages: pages.append(admin.get(url)))
        assert pages[0].status_code == 200
        costs[size] = (statements, options_in(text(pages[0])), text(pages[0]))
    return costs


def test_a_users_page_offers_at_most_a_select_of_groups_then_a_name_field(
    app, admin, query_counter
):
    with app.app_context():
        user_id = make_user("alice").id
    costs = cost_at_each_size(app, admin, query_counter, f"/admin/users/{user_id}")
    assert costs[3][0] == costs[MANY][0]
    assert costs[3][1] == 4  # "Choose a group…" and the three groups
    few, many = costs[3][2], costs[MANY][2]
    assert '<select id="group"' in few and '<select id="group"' not in many
    assert costs[MANY][1] <= costs[3][1]  # no option per group any more
    assert re.search(r'<input[^>]*name="group"[^>]*type="text"', many)
    assert "Type the group&#39;s name." in many or "Type the group's name." in many

    # The typed name adds the user to that group; an unknown name is a message and a 400.
    joined = post(admin, f"/admin/users/{user_id}/groups", {"group": "group-120"})
    assert joined.status_code == 303
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert ">group-120</a>" in page
    unknown = post(admin, f"/admin/users/{user_id}/groups", {"group": "no-such-group"})
    assert unknown.status_code == 400
    assert "There is no group by this name." in text(unknown)
    again = post(admin, f"/admin/users/{user_id}/groups", {"group": "group-120"})
    assert again.status_code == 400
    assert "alice is already in group-120." in text(again)


def test_a_binding_dialog_offers_at_most_a_select_of_groups_then_a_name_field(
    app, admin, query_counter
):
    base = "/admin/flows/default-authentication-flow/policies/new"
    costs = cost_at_each_size(app, admin, query_counter, base + "?tab=group")
    assert costs[3][0] == costs[MANY][0]
    assert '<select id="group"' not in costs[MANY][2]
    assert costs[MANY][1] <= costs[3][1]

    # A group bound by its typed name, then its edit form shows the name.
    response = post(
        admin,
        base + "?tab=group",
        {"group": "group-101", "order": "0", "timeout": "30", "enabled": "y"},
    )
    assert response.status_code == 303, text(response)
    with app.app_context():
        binding = db.session.scalar(
            sa.select(PolicyBinding).join(Group).where(Group.name == "group-101")
        )
        assert binding is not None
        binding_id = binding.id
    edit = admin.get(
        f"/admin/flows/default-authentication-flow/bindings/{binding_id}/edit?tab=group"
    )
    assert re.search(r'<input[^>]*name="group"[^>]*value="group-101"', text(edit))
    unknown = post(admin, base + "?tab=group", {"group": "nope", "order": "0", "timeout": "30"})
    assert unknown.status_code == 400
    assert "There is no such group." in text(unknown)


def test_the_event_logs_action_suggestions_walk_the_index_not_every_event(app, admin):
    """SELECT DISTINCT action read every event (0.14 s at a million) on each view of the log;
    the suggestions come from one index lookup per action. Checked in SQLite's plan: no step
    of that statement scans the events."""
    from idp.core.events import record_event

    with app.app_context():
        for action in ("login", "logout", "login", "from_a_newer_version"):
            record_event(action, username="alice")
        db.session.commit()
        engine = db.engine
    with statements_sent(engine) as sent:
        page = admin.get("/admin/events")
    assert page.status_code == 200
    assert 'value="from_a_newer_version"' in text(page)
    reading_actions = [
        (statement, parameters)
        for statement, parameters in sent
        if "min(events.action)" in statement or "DISTINCT events.action" in statement
    ]
    assert len(reading_actions) == 1
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's plan for a handful of rows is a scan whatever the query
    steps = sqlite_plan(engine, *reading_actions[0])
    assert not [step for step in steps if step.startswith("SCAN events")], steps


def test_the_event_log_counts_its_events_only_so_far(app, admin, monkeypatch):
    """A million events were counted whole on each view of the log (0.2 s on PostgreSQL):
    the count stops past EVENTS_COUNTED, or past the page shown if it is further, and the
    pages say "more than"; the last page, reached, is counted exactly."""
    from idp.admin.dashboard import events
    from idp.models import Event

    monkeypatch.setattr(events, "EVENTS_COUNTED", 60)
    with app.app_context():
        db.session.execute(sa.insert(Event), [{"action": "login"} for _ in range(120)])
        db.session.commit()

    def words(page_number: int) -> str:
        page = admin.get(f"/admin/events?page={page_number}")
        assert page.status_code == 200
        return " ".join(re.sub(r"<[^>]+>", " ", text(page)).split())

    first = words(1)
    assert "More than 60 events · page 1 " in first and "Next" in first
    second = words(2)
    assert "More than 100 events · page 2 " in second and "Next" in second
    last = words(3)
    with app.app_context():  # the 120 and the administrator's sign-in
        total = db.session.scalar(sa.select(sa.func.count()).select_from(Event))
    assert f"{total} events · page 3 of 3" in last and "Next" not in last


def add_users(up_to: int) -> None:
    """bulk0000.. up to `up_to` users named bulk, in one executemany."""
    from idp.models import User

    have = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(User.username.like("bulk%"))
    )
    rows = [{"username": f"bulk{index:04d}", "attributes": {}} for index in range(have, up_to)]
    if rows:
        db.session.execute(sa.insert(User), rows)
        db.session.commit()


def words_of(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def test_a_user_search_is_counted_only_when_its_page_cannot_tell(app, admin, query_counter):
    """LIKE '%text%' reads every user (85 ms at 100,000 on PostgreSQL), and the search read
    them twice: once to count, once for the page. A page that is not full tells the count, so
    a search matching less than a page, or nothing, reads them once. One that fills its page
    is counted apart, as the whole list is (a count beside each row held every match)."""

    def cost(url):
        admin.get(url)
        pages = []
        statements = query_counter.count(lambda: pages.append(admin.get(url)))
        assert pages[0].status_code == 200
        return statements, words_of(pages[0])

    costs = {}
    for size in (3, 130):
        with app.app_context():
            add_users(size)
        costs[size] = (cost("/admin/users"), cost("/admin/users?q=BULK"))
        costs[size] += (cost("/admin/users?q=nobody-like-this"), cost("/admin/users?q=bulk000"))
    (whole, _), (full, words), (none, nothing), (few, some) = costs[130]
    assert "0 users" in nothing and "No users match." in nothing
    assert some.endswith("10 users") and "bulk0009" in some
    assert none == few == whole - 1 and full == whole
    assert costs[3][0][0] == whole and costs[3][1][0] == whole - 1
    assert "130 users · page 1 of 3" in words and "bulk0049" in words and "bulk0050" not in words
    # The last page is not full: it tells the count, 2 pages of 50 before its 30 rows.
    last = words_of(admin.get("/admin/users?q=bulk&page=3"))
    assert "130 users · page 3 of 3" in last and "bulk0129" in last and "Next" not in last
    # Past the end there is no row to tell it: it is counted apart, and the page says so.
    past = admin.get("/admin/users?q=bulk&page=9")
    assert past.status_code == 200
    assert "130 users" in words_of(past) and "First page" in words_of(past)


@pytest.mark.parametrize(
    "url, grow",
    [("/admin/users", "users"), ("/admin/events", "events")],
    ids=["users", "events"],
)
def test_the_long_lists_are_paged_only_so_deep_then_narrowed(app, admin, monkeypatch, url, grow):
    """OFFSET reads every row it skips: the 2,000th page of 100,000 users took 75 ms, the
    20,000th of a million events 0.4 s (and ?page=100000 counted the whole log). Pages stop
    at DEEPEST_ROW: the last one says to narrow the list, a further one is a 400."""
    import idp.admin.dashboard.events as events_view
    import idp.admin.users.routes as users_view
    from idp.models import Event

    monkeypatch.setattr(users_view, "DEEPEST_ROW", 100)
    monkeypatch.setattr(events_view, "DEEPEST_ROW", 100)
    with app.app_context():
        if grow == "users":
            add_users(160)
        else:
            db.session.execute(sa.insert(Event), [{"action": "login"} for _ in range(160)])
            db.session.commit()
    first = words_of(admin.get(url))
    assert "page 1 of 4" in first and "Next" in first and "The pages stop here" not in first
    deepest = admin.get(url + "?page=2")
    assert deepest.status_code == 200
    words = words_of(deepest)
    assert "page 2 of 4" in words and "Previous" in words and "Next" not in words
    assert "The pages stop here: narrow the list with the fields above to see the rest." in words
    for number in ("3", "4", "100000"):
        further = admin.get(f"{url}?page={number}")
        assert further.status_code == 400
        assert "The page number must be a whole number from 1 to 2." in words_of(further)


def add_members(group_id: int, up_to: int) -> None:
    """bulk0000.. up to `up_to` users named bulk, all members of the group."""
    from idp.models import User, group_members

    add_users(up_to)
    ids = db.session.scalars(sa.select(User.id).where(User.username.like("bulk%"))).all()
    have = set(
        db.session.scalars(
            sa.select(group_members.c.user_id).where(group_members.c.group_id == group_id)
        )
    )
    rows = [{"group_id": group_id, "user_id": user_id} for user_id in ids if user_id not in have]
    if rows:
        db.session.execute(sa.insert(group_members), rows)
        db.session.commit()


def test_a_group_of_five_thousand_shows_its_members_a_page_at_a_time(
    app, admin, query_counter, monkeypatch
):
    """The group's page costs the same statements with 3 members or 5,000, shows 50 of them
    with the count, pages on, and stops at DEEPEST_ROW as the user list does: past it, the
    search among the members narrows the list."""
    import idp.admin.users.groups as groups_view
    from tests.factories import make_group

    with app.app_context():
        group = make_group("crowd").id
    url = f"/admin/groups/{group}"

    def cost(address):
        admin.get(address)
        pages = []
        statements = query_counter.count(lambda: pages.append(admin.get(address)))
        assert pages[0].status_code == 200
        return statements, words_of(pages[0])

    costs = {}
    for size in (3, 5000):
        with app.app_context():
            add_members(group, size)
        costs[size] = cost(url)
    assert costs[3][0] == costs[5000][0]
    words = costs[5000][1]
    assert "5000 members · page 1 of 100" in words and "Next" in words
    assert "bulk0049" in words and "bulk0050" not in words
    second = words_of(admin.get(url + "?page=2"))
    assert "page 2 of 100" in second and "bulk0050" in second and "bulk0049" not in second
    found = words_of(admin.get(url + "?q=BULK4242"))
    assert "1 member" in found and "bulk4242" in found and "bulk4243" not in found
    too_long = admin.get(url + "?q=" + "x" * 201)
    assert too_long.status_code == 400
    assert "Search for at most 200 characters." in words_of(too_long)

    monkeypatch.setattr(groups_view, "DEEPEST_ROW", 100)
    deepest = words_of(admin.get(url + "?page=2"))
    assert "page 2 of 100" in deepest and "Next" not in deepest
    assert "The pages stop here" in deepest
    further = admin.get(url + "?page=3")
    assert further.status_code == 400
    assert "The page number must be a whole number from 1 to 2." in words_of(further)
