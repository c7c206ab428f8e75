"""The group picker is a select up to PICKER_LIMIT groups and a name field above. A form shown
on one side of the limit and sent once the count has crossed it is read as it was shown: the
select's group id, or the typed name."""

import re

import sqlalchemy as sa

from idp.admin.group_picker import PICKER_LIMIT
from idp.core.extensions import db
from idp.identity.accounts import groups_of as user_groups
from idp.models import Group, PolicyBinding, User
from tests.factories import make_user
from tests.http.admin.conftest import post, text
from tests.http.admin.test_many_rows import add_groups

BINDINGS = "/admin/flows/default-authentication-flow/policies/new?tab=group"
BINDING_FIELDS = {"order": "0", "timeout": "30", "enabled": "y"}


def shown_as(page: str) -> dict:
    """The hidden inputs the group field was shown with (how it sends its value)."""
    return dict(re.findall(r'<input type="hidden" name="(group_[a-z_]+)" value="([a-z]+)"', page))


def option_for(page: str, name: str) -> str:
    return re.search(rf'<option value="(\d+)">{re.escape(name)}</option>', page).group(1)


def group_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Group))


def drop_a_group(keep: str) -> None:
    spare = db.session.scalar(sa.select(Group).where(Group.name != keep).order_by(Group.id.desc()))
    db.session.delete(spare)
    db.session.commit()


def groups_of(username: str) -> list[str]:
    user = db.session.scalar(sa.select(User).where(User.username == username))
    return sorted(group.name for group in user_groups(user))


def test_a_select_shown_at_the_limit_is_read_by_id_after_the_count_grows(app, admin):
    with app.app_context():
        user_id = make_user("alice").id
        add_groups(PICKER_LIMIT)
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert '<select id="group"' in page
    form = {"group": option_for(page, "group-042"), **shown_as(page)}
    with app.app_context():
        add_groups(PICKER_LIMIT + 1)  # now the page would be a name field
    response = post(admin, f"/admin/users/{user_id}/groups", form)
    assert response.status_code == 303, text(response)
    with app.app_context():
        assert groups_of("alice") == ["group-042"]


def test_a_name_field_shown_over_the_limit_is_read_by_name_after_the_count_falls(app, admin):
    with app.app_context():
        user_id = make_user("alice").id
        add_groups(PICKER_LIMIT + 1)
    page = text(admin.get(f"/admin/users/{user_id}"))
    assert '<select id="group"' not in page
    form = {"group": "group-042", **shown_as(page)}
    with app.app_context():
        drop_a_group(keep="group-042")  # now the page would be a select
        assert group_count() == PICKER_LIMIT
    response = post(admin, f"/admin/users/{user_id}/groups", form)
    assert response.status_code == 303, text(response)
    with app.app_context():
        assert groups_of("alice") == ["group-042"]


def test_a_typed_name_made_of_digits_stays_a_name_when_the_count_falls(app, admin):
    """Group "7" is not the group whose id is 7: read as an id, the typed name would add the
    user to another group (one that may grant more)."""
    with app.app_context():
        user_id = make_user("alice").id
        add_groups(PICKER_LIMIT)
        other = db.session.scalar(sa.select(Group).order_by(Group.id).limit(1))
        db.session.add(Group(name=str(other.id)))
        db.session.commit()
        assert other.name != str(other.id)
        named_like_an_id = str(other.id)
    page = text(admin.get(f"/admin/users/{user_id}"))
    form = {"group": named_like_an_id, **shown_as(page)}
    with app.app_context():
        drop_a_group(keep=named_like_an_id)
    response = post(admin, f"/admin/users/{user_id}/groups", form)
    assert response.status_code == 303, text(response)
    with app.app_context():
        assert groups_of("alice") == [named_like_an_id]


def test_a_binding_form_is_read_as_shown_across_the_limit_both_ways(app, admin):
    with app.app_context():
        add_groups(PICKER_LIMIT)
    page = text(admin.get(BINDINGS))
    assert '<select id="group"' in page
    as_select = {"group": option_for(page, "group-010"), **shown_as(page), **BINDING_FIELDS}
    with app.app_context():
        add_groups(PICKER_LIMIT + 1)
    response = post(admin, BINDINGS, as_select)
    assert response.status_code == 303, text(response)

    page = text(admin.get(BINDINGS))
    assert '<select id="group"' not in page
    as_name = {"group": "group-020", **shown_as(page), **BINDING_FIELDS}
    with app.app_context():
        drop_a_group(keep="group-020")
        drop_a_group(keep="group-010")
    response = post(admin, BINDINGS, as_name)
    assert response.status_code == 303, text(response)
    with app.app_context():
        bound = db.session.scalars(sa.select(Group.name).join(PolicyBinding.group)).all()
    assert sorted(bound) == ["group-010", "group-020"]


def test_a_form_without_the_hint_is_read_as_the_page_is_now(app, admin):
    """A script that posts only `group`: as before, the id while there is a select, the name
    once there is a name field."""
    with app.app_context():
        user_id = make_user("alice").id
        add_groups(PICKER_LIMIT)
        by_id = str(db.session.scalar(sa.select(Group.id).where(Group.name == "group-001")))
    assert post(admin, f"/admin/users/{user_id}/groups", {"group": by_id}).status_code == 303
    with app.app_context():
        add_groups(PICKER_LIMIT + 2)  # 101 groups alice is not in
    response = post(admin, f"/admin/users/{user_id}/groups", {"group": "group-002"})
    assert response.status_code == 303
    with app.app_context():
        assert groups_of("alice") == ["group-001", "group-002"]


def test_a_bad_hint_is_read_as_the_page_is_now(app, admin):
    with app.app_context():
        user_id = make_user("alice").id
        add_groups(PICKER_LIMIT + 2)  # a name field still once alice is in one
    hints = shown_as(text(admin.get(f"/admin/users/{user_id}")))
    assert hints
    bad = dict.fromkeys(hints, "nonsense")
    response = post(admin, f"/admin/users/{user_id}/groups", {"group": "group-003", **bad})
    assert response.status_code == 303
    unknown = post(admin, f"/admin/users/{user_id}/groups", {"group": "no-such", **bad})
    assert unknown.status_code == 400
    assert "There is no group by this name." in text(unknown)


def test_a_form_shown_again_the_other_way_leaves_the_field_empty(app, admin):
    """A group id sent from a select is no name to show in the name field that replaced it."""
    with app.app_context():
        add_groups(PICKER_LIMIT)
    page = text(admin.get(BINDINGS))
    gone = {"group": "99999", **shown_as(page), **BINDING_FIELDS}
    with app.app_context():
        add_groups(PICKER_LIMIT + 1)
    response = post(admin, BINDINGS, gone)
    assert response.status_code == 400
    again = text(response)
    assert "There is no such group." in again
    field = re.search(r'<input[^>]*name="group"[^>]*>', again).group(0)
    assert 'type="text"' in field and "99999" not in field
    assert shown_as(again) == {"group_given_as": "name"}
