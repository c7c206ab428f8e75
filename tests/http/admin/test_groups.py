import re

import pytest
from sqlalchemy import select

from idp.core.extensions import db
from idp.identity.accounts import find_group, user_group_names
from idp.models import Application, Group, PolicyBinding, User
from tests.factories import make_flow, make_group, make_user
from tests.http.admin.conftest import events_of, post, text


def group_id(app, name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Group.id).where(Group.name == name))


def groups_of(app, username: str) -> list[str]:
    with app.app_context():
        return user_group_names(db.session.scalar(select(User).where(User.username == username)))


def test_groups_are_listed_with_their_member_counts(app, admin):
    with app.app_context():
        staff = make_group("staff")
        make_group("empty")
        make_user(groups=[staff])
        make_user(groups=[staff])
    page = text(admin.get("/admin/groups"))
    rows = re.findall(r'">([a-z]+)</a></td>\s*<td>(\d+)</td>', page)
    assert rows == [("empty", "0"), ("staff", "2")]


def test_the_group_list_paginates(app, admin):
    with app.app_context():
        for index in range(55):
            make_group(f"g{index:02}")
    assert "55 groups · page 1 of 2" in text(admin.get("/admin/groups"))
    assert ">g54</a>" in text(admin.get("/admin/groups?page=2"))


def test_an_administrator_creates_a_group(app, admin):
    response = post(admin, "/admin/groups/new", {"name": " editors "})
    assert response.status_code == 303
    new_id = group_id(app, "editors")
    assert response.headers["Location"] == f"/admin/groups/{new_id}"
    (event,) = events_of(app, "admin_group_created")
    assert event.detail["after"] == {"name": "editors"}
    assert event.detail["target"] == {"kind": "group", "id": new_id, "name": "editors"}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name."),
        ("   ", "Enter a name."),
        ("taken", "A group with this name exists already."),
        ("x" * 151, "Group names are at most 150 characters long."),
        ("staff\tadmins", "One line only, without control characters."),
        ("a\r\nb", "One line only, without control characters."),
    ],
)
def test_a_bad_group_name_is_refused(app, admin, name, message):
    with app.app_context():
        make_group("taken")
    response = post(admin, "/admin/groups/new", {"name": name})
    assert response.status_code == 400
    assert message in text(response)
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Group)) == 1


def test_a_group_is_renamed(app, admin):
    with app.app_context():
        make_group("old-name")
        make_group("other")
    path = f"/admin/groups/{group_id(app, 'old-name')}/rename"
    response = post(admin, path, {"name": "other"})
    assert response.status_code == 400
    assert "A group with this name exists already." in text(response)
    assert post(admin, path, {"name": "new-name"}).status_code == 303
    with app.app_context():
        assert find_group("new-name") is not None and find_group("old-name") is None
    (event,) = events_of(app, "admin_group_renamed")
    assert (event.detail["before"], event.detail["after"]) == (
        {"name": "old-name"},
        {"name": "new-name"},
    )


def test_members_are_added_and_removed_by_username(app, admin, user_id):
    with app.app_context():
        make_group("club")
    club = group_id(app, "club")
    assert post(admin, f"/admin/groups/{club}/members", {"username": "ALICE"}).status_code == 303
    assert groups_of(app, "alice") == ["club"]
    page = text(admin.get(f"/admin/groups/{club}"))
    assert ">alice</a>" in page and "<span>1 member</span>" in page  # never "1 members"
    response = post(admin, f"/admin/groups/{club}/members", {"username": "alice"})
    assert response.status_code == 400
    assert "alice is already a member." in text(response)
    assert post(admin, f"/admin/groups/{club}/members/{user_id}/remove").status_code == 303
    assert groups_of(app, "alice") == []
    assert post(admin, f"/admin/groups/{club}/members/{user_id}/remove").status_code == 404
    (added,) = events_of(app, "admin_group_member_added")
    assert added.detail["after"] == {"member": "alice"}
    (removed,) = events_of(app, "admin_group_member_removed")
    assert removed.detail["before"] == {"member": "alice"}


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("", "Enter a username."),
        ("nobody", "There is no user named nobody."),
        ("x" * 151, "at most 150"),
    ],
)
def test_a_bad_member_is_refused(app, admin, username, message):
    with app.app_context():
        make_group("club")
    response = post(admin, f"/admin/groups/{group_id(app, 'club')}/members", {"username": username})
    assert response.status_code == 400
    assert message in text(response)


def test_deleting_a_group_asks_first_and_keeps_its_members(app, admin, user_id):
    with app.app_context():
        make_group("doomed")
    doomed = group_id(app, "doomed")
    post(admin, f"/admin/groups/{doomed}/members", {"username": "alice"})
    page = text(admin.get(f"/admin/groups/{doomed}/delete"))
    assert "Delete the group doomed?" in page and "Delete the group</button>" in page
    response = post(admin, f"/admin/groups/{doomed}/delete")
    assert response.status_code == 303 and response.headers["Location"] == "/admin/groups"
    assert group_id(app, "doomed") is None
    assert groups_of(app, "alice") == []
    with app.app_context():
        assert db.session.get(User, user_id) is not None
        remaining = db.session.execute(select(db.metadata.tables["group_members"])).all()
        assert remaining == []
    (event,) = events_of(app, "admin_group_deleted")
    assert event.detail["before"] == {"name": "doomed"}


def test_a_group_bound_as_a_policy_is_not_deleted_and_says_where(app, admin):
    with app.app_context():
        make_group("gatekeepers")
        slug = make_flow(
            [
                {
                    "define": {"name": "bound-deny", "type": "deny"},
                    "policies": [{"group": "gatekeepers"}],
                }
            ],
            flow_policies=[{"group": "gatekeepers"}],
        )
    gatekeepers = group_id(app, "gatekeepers")
    page = text(admin.get(f"/admin/groups/{gatekeepers}/delete"))
    assert f"who may use the flow {slug}" in page
    assert f"the stage bound-deny in {slug}" in page
    assert "Delete the group</button>" not in page
    response = post(admin, f"/admin/groups/{gatekeepers}/delete")
    assert response.status_code == 409
    assert group_id(app, "gatekeepers") == gatekeepers
    assert events_of(app, "admin_group_deleted") == []


def test_a_group_that_decides_who_may_use_an_application_is_not_deleted(app, admin):
    """Deleting it would delete the binding with it: an application with nothing bound is
    open to every signed-in user."""
    with app.app_context():
        wiki = Application(slug="wiki", name="The Wiki", policy_bindings=[])
        wiki.policy_bindings.append(PolicyBinding(group=make_group("editors")))
        db.session.add(wiki)
        db.session.commit()
    editors = group_id(app, "editors")
    assert "who may use the application The Wiki" in text(
        admin.get(f"/admin/groups/{editors}/delete")
    )
    response = post(admin, f"/admin/groups/{editors}/delete")
    assert response.status_code == 409
    assert group_id(app, "editors") == editors
    with app.app_context():
        (binding,) = db.session.scalars(
            select(PolicyBinding).where(PolicyBinding.group_id == editors)
        )
        assert binding.application_id is not None
    assert admin.get("/admin/applications/wiki").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/groups/999999"),
        ("get", "/admin/groups/999999/delete"),
        ("post", "/admin/groups/999999/delete"),
        ("post", "/admin/groups/999999/rename"),
        ("post", "/admin/groups/999999/members"),
    ],
)
def test_a_missing_group_is_a_404(admin, method, path):
    response = admin.get(path) if method == "get" else post(admin, path, {"name": "x"})
    assert response.status_code == 404


@pytest.mark.parametrize("deleted", ["group", "user"])
def test_a_member_added_while_another_admin_deletes_the_group_or_user(
    app, admin, monkeypatch, deleted
):
    """Another administrator deletes the group (or the user) after this request found it and
    before it writes the membership: the database refuses a membership of nothing (a foreign
    key, not a name taken). The answer says it was deleted, not that the member was just
    added."""
    from idp.admin.users import groups as group_pages
    from idp.admin.users import routes as user_pages

    with app.app_context():
        staff, alice = make_group("staff").id, make_user("alice").id
    original = group_pages.add_to_group

    def deleted_elsewhere_first(group, user):
        with db.engine.begin() as elsewhere:  # another request's connection, committed
            model, key = (Group, staff) if deleted == "group" else (User, alice)
            elsewhere.execute(model.__table__.delete().where(model.id == key))
        original(group, user)

    for module in (group_pages, user_pages):
        monkeypatch.setattr(module, "add_to_group", deleted_elsewhere_first)
    response = post(admin, f"/admin/users/{alice}/groups", {"group": str(staff)})

    assert response.status_code == 404
    assert "deleted in the meantime" in text(response)
    assert "was just added" not in text(response)
