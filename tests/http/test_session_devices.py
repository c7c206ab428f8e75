"""Sessions are listed by device in words ("Firefox on Windows", "(phone)") on /me and in the
admin, with the raw user agent in the tooltip."""

import html
import re
from datetime import timedelta

import pytest

from idp.core.extensions import db
from idp.identity.sessions import SESSIONS_LISTED
from idp.identity.user_agents import describe
from idp.models import User, UserSession
from idp.models.types import utcnow
from tests.conftest import FlowDriver, csrf_token
from tests.factories import PASSWORD, make_user

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)


@pytest.mark.parametrize(
    ("user_agent", "label", "kind"),
    [
        (FIREFOX_WINDOWS, "Firefox on Windows", ""),
        (SAFARI_MAC, "Safari on Mac OS X", ""),
        (SAFARI_IPHONE, "Mobile Safari on iOS", "phone"),
        (SAFARI_IPAD, "Mobile Safari on iOS", "tablet"),
        (CHROME_ANDROID_PHONE, "Chrome Mobile on Android", "phone"),
        (CHROME_ANDROID_TABLET, "Chrome on Android", "tablet"),
        ("curl/8.5.0", "curl", ""),
        ("", "Unknown device", ""),
        ("\x00garbage", "Unknown device", ""),
    ],
)
def test_a_user_agent_is_described_in_words(user_agent, label, kind):
    described = describe(user_agent)
    assert (described.label, described.kind) == (label, kind)


def browser_with(app, user_agent: str, username: str) -> FlowDriver:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    driver = FlowDriver(client)
    driver.sign_in(username, PASSWORD)
    return driver


def device_cells(page: str) -> list[tuple[str, str]]:
    """(tooltip, words) of each session's device cell."""
    cells = re.findall(r'<span class="device" title="([^"]*)">([^<]*)</span>(.*?)</td>', page, re.S)
    return [
        (html.unescape(title), " ".join(html.unescape(words + re.sub("<[^>]+>", "", rest)).split()))
        for title, words, rest in cells
    ]


def test_me_lists_sessions_by_device_with_the_raw_agent_as_tooltip(app):
    with app.app_context():
        make_user("alice")
    browser_with(app, SAFARI_IPHONE, "alice")
    laptop = browser_with(app, FIREFOX_WINDOWS, "alice")
    page = laptop.client.get("/me").get_data(as_text=True)
    cells = device_cells(page)
    assert (FIREFOX_WINDOWS, "Firefox on Windows (this browser)") in cells
    assert (SAFARI_IPHONE, "Mobile Safari on iOS (phone)") in cells
    assert "Mozilla/5.0" not in re.sub(r'title="[^"]*"', "", page)


def test_the_admin_lists_a_users_sessions_by_device(app):
    with app.app_context():
        make_user("root", superuser=True)
        alice = make_user("alice").id
    browser_with(app, CHROME_ANDROID_TABLET, "alice")
    admin = browser_with(app, FIREFOX_WINDOWS, "root")
    page = admin.client.get(f"/admin/users/{alice}").get_data(as_text=True)
    assert device_cells(page) == [(CHROME_ANDROID_TABLET, "Chrome on Android (tablet)")]


def left_behind(app, username: str, count: int) -> None:
    """`count` sessions of a phone that never signed out, each seen after the last."""
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.username == username))
        now = utcnow()
        db.session.add_all(
            UserSession(
                key_hash=f"{index:064x}",
                user_id=user.id,
                last_seen_at=now + timedelta(seconds=index),
                expires_at=now + timedelta(days=1),
                user_agent=SAFARI_IPHONE,
            )
            for index in range(1, count + 1)
        )
        db.session.commit()


def test_me_lists_this_session_first_then_nineteen_and_counts_the_rest(app, query_counter):
    """A script that signs in and never out must not make /me a page of thousands of rows."""
    with app.app_context():
        make_user("alice")
    laptop = browser_with(app, FIREFOX_WINDOWS, "alice")
    left_behind(app, "alice", 24)
    laptop.client.get("/me")  # the first /me of a worker reads which flows exist
    pages = []
    statements = query_counter.count(lambda: pages.append(laptop.client.get("/me").text))
    assert statements == 3  # as with one session: the count comes beside the rows
    page = pages[0]
    cells = device_cells(page)
    assert len(cells) == SESSIONS_LISTED
    assert cells[0] == (FIREFOX_WINDOWS, "Firefox on Windows (this browser)")
    assert "And 5 more sessions, seen less recently" in page

    laptop.client.post("/me/sessions/others/revoke", data={"csrf_token": csrf_token(page)})
    page = laptop.client.get("/me").get_data(as_text=True)
    assert device_cells(page) == [(FIREFOX_WINDOWS, "Firefox on Windows (this browser)")]
    assert "more session" not in page


def test_the_admin_lists_twenty_sessions_and_counts_the_rest(app):
    with app.app_context():
        make_user("root", superuser=True)
        alice = make_user("alice").id
    left_behind(app, "alice", 21)
    admin = browser_with(app, FIREFOX_WINDOWS, "root")
    page = admin.client.get(f"/admin/users/{alice}").get_data(as_text=True)
    assert len(device_cells(page)) == SESSIONS_LISTED
    assert "And 1 more session, seen less recently" in page
