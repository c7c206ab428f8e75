import re
from datetime import UTC, datetime, timedelta

import pytest

from idp.core.extensions import db
from idp.models import Event
from tests.http.admin.conftest import text

DAY = datetime(2024, 5, 31, 12, tzinfo=UTC)


def add(app, action: str, username: str, moment: datetime, count: int = 1) -> None:
    with app.app_context():
        db.session.add_all(
            Event(action=action, username=username, created_at=moment, detail={})
            for _ in range(count)
        )
        db.session.commit()


def shown_actions(page: str) -> list[str]:
    return re.findall(r"<code>([a-z_0-9]+)</code>", page)


def test_events_are_listed_newest_first(app, admin):
    add(app, "first_thing", "ann", DAY)
    add(app, "second_thing", "ann", DAY + timedelta(minutes=1))
    actions = shown_actions(text(admin.get("/admin/events?username=ann")))
    assert actions == ["second_thing", "first_thing"]


def test_events_are_filtered_by_action_user_and_dates(app, admin):
    add(app, "login", "ann", DAY)
    add(app, "login", "bob", DAY)
    add(app, "login_failed", "ann", DAY)
    add(app, "login", "ann", DAY - timedelta(days=2))
    add(app, "login", "ann", DAY + timedelta(days=1, hours=13))
    page = text(
        admin.get("/admin/events?action=login&username=ANN&since=2024-05-31&until=2024-05-31")
    )
    assert "<span>1 event</span>" in page  # never "1 events"
    assert shown_actions(page) == ["login"]
    page = text(admin.get("/admin/events?username=ann&since=2024-05-30"))
    assert "3 events" in page
    page = text(admin.get("/admin/events?username=ann&until=2024-05-31"))
    assert "3 events" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=31.05.2024", "Enter a date like 2024-05-31."),
        ("until=2024-02-30", "Enter a date like 2024-05-31."),
        ("since=2024-06-02&until=2024-06-01", "The end date is before the start date."),
        ("action=" + "x" * 65, "Actions are at most 64 characters long."),
        ("username=" + "x" * 151, "Usernames are at most 150 characters long."),
    ],
)
def test_a_bad_filter_is_a_400_with_a_message(admin, query, message):
    response = admin.get(f"/admin/events?{query}")
    assert response.status_code == 400
    assert message in text(response)
    assert 'aria-invalid="true"' in text(response)


@pytest.mark.parametrize("page", ["0", "-1", "two", "1e3", "²", "100001", "9" * 40])
def test_a_bad_page_number_is_a_400(admin, page):
    response = admin.get(f"/admin/events?page={page}")
    assert response.status_code == 400
    assert "The page number must be a whole number" in text(response)


def test_events_come_fifty_to_a_page_and_keep_the_filter(app, admin):
    add(app, "bulk_thing", "carl", DAY, count=120)
    first = text(admin.get("/admin/events?action=bulk_thing"))
    assert len(shown_actions(first)) == 50
    assert "120 events · page 1 of 3" in first
    assert 'href="/admin/events?action=bulk_thing&amp;page=2"' in first
    last = text(admin.get("/admin/events?action=bulk_thing&page=3"))
    assert len(shown_actions(last)) == 20
    assert 'rel="next"' not in last and 'rel="prev"' in last


def test_a_page_past_the_end_is_empty_and_links_to_the_first(app, admin):
    add(app, "lonely_thing", "dan", DAY)
    page = text(admin.get("/admin/events?action=lonely_thing&page=7"))
    assert "No events match." in page
    assert "First page" in page
