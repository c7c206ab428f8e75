"""Group membership from the user's page: add to a group, remove from one; the same change
and audit event as the group's page, seen by policies that ask about the groups."""

import re

from sqlalchemy import select

from idp.core.extensions import db
from idp.identity.accounts import user_group_names
from idp.models import Group, User, group_members
from tests.factories import make_group
from tests.http.admin.conftest import events_of, post, text


def groups_of(app, user_id: int) -> list[str]:
    with app.app_context():
        return user_group_names(db.session.get(User, user_id))


def group_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Group.id).where(Group.name == name))


def member_of_staff(app, user_id: int) -> None:
    with app.app_context():
        staff = make_group("staff")
        db.session.execute(group_members.insert().values(group_id=staff.id, user_id=user_id))
        db.session.commit()


def test_a_user_is_added_to_a_group_from_their_page(app, admin, user_id):
    with app.app_context():
        make_group("staff")
        make_group("Auditors")
    page = text(admin.get(f"/admin/users/{user_id}"))
    options = re.findall(r'<option value="(\d*)">([^<]+)</option>', page.split('name="group"')[1])
    assert [name for _, name in options] == ["Choose a group…", "Auditors", "staff"]
    response = post(admin, f"/admin/users/{user_id}/groups", {"group": group_id(app, "staff")})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{user_id}#groups"
    assert groups_of(app, user_id) == ["staff"]
    (event,) = events_of(app, "admin_group_member_added")
    assert event.detail["after"] == {"member": "alice"}
    assert event.detail["target"]["name"] == "staff"
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert "alice was added to the group staff." in page
    assert 'aria-label="Remove alice from staff"' in page
    offered = page.split('name="group"')[1].split("</select>")[0]
    assert "staff" not in offered and "Auditors" in offered  # only the groups not joined


def test_a_user_is_removed_from_a_group_from_their_page(app, admin, user_id):
    member_of_staff(app, user_id)
    page = text(admin.get(f"/admin/users/{user_id}"))
    action = f"/admin/users/{user_id}/groups/{group_id(app, 'staff')}/remove"
    assert f'action="{action}"' in page
    assert post(admin, action).status_code == 303
    assert groups_of(app, user_id) == []
    (event,) = events_of(app, "admin_group_member_removed")
    assert event.detail["before"] == {"member": "alice"}
    assert post(admin, action).status_code == 404  # not a member any more


def test_bad_choices_are_refused_with_a_message(app, admin, user_id):
    member_of_staff(app, user_id)
    response = post(admin, f"/admin/users/{user_id}/groups", {"group": ""})
    assert response.status_code == 400 and "Choose a group." in text(response)
    response = post(admin, f"/admin/users/{user_id}/groups", {"group": group_id(app, "staff")})
    assert response.status_code == 400 and "alice is already in staff." in text(response)
    assert post(admin, f"/admin/users/{user_id}/groups", {"group": "999999"}).status_code == 404
    assert (
        post(admin, f"/admin/users/{user_id}/groups", {"group": "1"}, csrf=False).status_code == 400
    )
    assert events_of(app, "admin_group_member_added") == []


def test_without_groups_the_page_says_how_to_make_one(admin, user_id):
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert "There are no groups yet" in page and 'href="/admin/groups/new"' in page
    assert 'name="group"' not in page
