"""Counts read right everywhere in the admin: "1 member", "2 members", never "1 members"; and
the events filter offers every action Gatehouse records, in words, still taking any text."""

import re

import pytest

from idp.admin.dashboard.event_actions import EVENT_ACTIONS
from idp.core.extensions import db
from idp.models import Event, Invitation
from tests.factories import make_group, make_user
from tests.http.admin.conftest import text


def pagination_line(page: str) -> str:
    nav = r'<nav class="pagination" aria-label="Pages, above the list">\s*<span>([^<]+)</span>'
    return re.search(nav, page)[1]


@pytest.mark.parametrize(("count", "words"), [(0, "0 members"), (1, "1 member"), (2, "2 members")])
def test_a_groups_members_are_counted_in_words_that_fit(app, admin, count, words):
    with app.app_context():
        group = make_group("club")
        for index in range(count):
            make_user(f"member{index}", groups=[group])
        group_id = group.id
    assert pagination_line(text(admin.get(f"/admin/groups/{group_id}"))) == words


def test_one_of_anything_is_singular_in_every_list(app, admin):
    with app.app_context():
        make_group("club")
    # The administrator is the only user; one group; the shipped flows are many.
    assert pagination_line(text(admin.get("/admin/users"))) == "1 user"
    assert pagination_line(text(admin.get("/admin/groups"))) == "1 group"
    assert re.fullmatch(r"\d+ flows", pagination_line(text(admin.get("/admin/flows"))))
    page = text(admin.get("/admin/events?action=login"))
    assert pagination_line(page) == "1 event"  # the administrator's own sign-in


def test_a_flow_used_by_one_invitation_says_so_in_the_singular(app, admin):
    with app.app_context():
        db.session.add(Invitation(flow_slug="default-enrollment-flow", token_hash="x" * 64))
        db.session.commit()
    page = text(admin.get("/admin/flows/default-enrollment-flow/delete"))
    assert "1 invitation link" in page and "1 invitation links" not in page


def test_the_events_filter_offers_every_known_action_in_words(app, admin):
    with app.app_context():
        db.session.add(Event(action="legacy_thing", username="x", detail={}))
        db.session.commit()
    page = text(admin.get("/admin/events"))
    datalist = page.split('<datalist id="known-actions">', 1)[1].split("</datalist>", 1)[0]
    offered = dict(re.findall(r'<option value="([a-z_0-9]+)"(?: label="([^"]*)")?>', datalist))
    assert set(EVENT_ACTIONS) <= set(offered)
    assert offered["login_failed"] == "A sign-in failed (wrong name or password)"
    assert "legacy_thing" in offered  # what the log holds, known or not
    field = re.search(r'<input[^>]*name="action"[^>]*>', page)[0]
    assert 'list="known-actions"' in field
    # Still free text: a part of a name is no filter error, only nothing found.
    assert admin.get("/admin/events?action=anything_at_all").status_code == 200
