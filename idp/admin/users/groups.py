"""Groups: list with member counts, create, rename, delete, and their members."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from idp.admin.audit import describe, record_change, record_deletion
from idp.admin.bound_places import places_bound
from idp.admin.helpers import INVALID, find_or_404, hold_to_delete, saved_unless_taken
from idp.admin.pagination import DEEPEST_ROW, Page, paginate
from idp.admin.users.forms import GroupForm, MemberForm, UserSearchForm
from idp.admin.users.search import search_users
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.i18n import lazy_text as _l
from idp.models import Group, PolicyBinding, User, group_members

NAME_TAKEN = _l("A group with this name was just created.")


def group_target(group: Group) -> dict:
    return describe("group", group, group.name)


def groups():
    member_count = func.count(group_members.c.user_id)
    statement = (
        select(Group, member_count)
        .outerjoin(group_members, group_members.c.group_id == Group.id)
        .group_by(Group.id)
        .order_by(Group.name)
    )
    return render_template("admin/groups/list.html", page=paginate(statement))


def new_group():
    form = GroupForm()
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/groups/new.html", form=form), status
    group = Group(name=form.name.data)
    with saved_unless_taken(form.name, NAME_TAKEN) as done:
        db.session.add(group)
        db.session.flush()
        record_change("admin_group_created", group_target(group), after={"name": group.name})
    if not done.saved:
        return render_template("admin/groups/new.html", form=form), INVALID
    flash(_("The group %(name)s was created.", name=group.name), "info")
    return redirect(url_for("admin.groups.group", group_id=group.id), code=303)


def where_bound(group: Group) -> list[str]:
    """Where the group is bound: a flow's gate, a stage's, or an application's."""
    return places_bound(PolicyBinding.group_id, [group.id]).get(group.id, [])


def members_page(group: Group, search: UserSearchForm) -> Page:
    """A page of the group's members, or of those the search finds among them. Paged only so
    deep (DEEPEST_ROW), as the user list is: past it, the search narrows the list."""
    text = search.q.data or ""
    members = select(User).join(group_members, group_members.c.user_id == User.id)
    members = members.where(group_members.c.group_id == group.id)
    return paginate(
        search_users(text, members), deepest_row=DEEPEST_ROW, counted_when_needed=bool(text)
    )


def render_group(group: Group, status: int = 200, **forms):
    search = UserSearchForm(request.args)
    members = members_page(group, search) if search.validate() else None
    page = render_template(
        "admin/groups/detail.html",
        group=group,
        page=members,
        search=search,
        bound=where_bound(group),
        rename_form=forms.get("rename_form") or GroupForm(formdata=None, obj=group),
        member_form=forms.get("member_form") or MemberForm(formdata=None),
        form=Form(),
    )
    return page, status if members is not None else INVALID


def group(group_id: int):
    return render_group(find_or_404(Group, group_id, "group"))


def rename_group(group_id: int):
    group = find_or_404(Group, group_id, "group")
    form = GroupForm(editing=group)
    if not form.validate():
        return render_group(group, INVALID, rename_form=form)
    before = {"name": group.name}
    with saved_unless_taken(form.name, NAME_TAKEN) as done:
        group.name = form.name.data
        record_change("admin_group_renamed", group_target(group), before, {"name": group.name})
    if not done.saved:
        return render_group(group, INVALID, rename_form=form)
    flash(_("The group was renamed."), "info")
    return redirect(url_for("admin.groups.group", group_id=group.id), code=303)


def confirm_group_deletion(group_id: int):
    group = find_or_404(Group, group_id, "group")
    return render_deletion(group, where_bound(group))


def render_deletion(group: Group, bound: list[str], status: int = 200):
    page = render_template("admin/groups/delete.html", group=group, bound=bound, form=Form())
    return page, status


def delete_group(group_id: int):
    """A group still bound to a flow or a stage is not deleted: its bindings would vanish with
    it, and open what they guarded."""
    group = find_or_404(Group, group_id, "group")
    hold_to_delete(group)
    bound = where_bound(group)  # asked under the lock: a binding made meanwhile waits
    if bound:
        return render_deletion(group, bound, 409)
    name, target = group.name, group_target(group)
    # Memberships first, as the foreign key's ON DELETE CASCADE would (idp/identity/deletion.py).
    db.session.execute(delete(group_members).where(group_members.c.group_id == group.id))
    deleted = db.session.execute(delete(Group).where(Group.id == group.id)).rowcount
    record_deletion("admin_group_deleted", target, {"name": name}, deleted)
    db.session.commit()
    flash(_("The group %(name)s was deleted.", name=name), "info")
    return redirect(url_for("admin.groups.groups"), code=303)


def add_member(group_id: int):
    group = find_or_404(Group, group_id, "group")
    form = MemberForm()
    if not form.validate():
        return render_group(group, INVALID, member_form=form)
    if is_member(group, form.user):
        form.username.errors = [_("%(username)s is already a member.", username=form.user.username)]
        return render_group(group, INVALID, member_form=form)
    with saved_unless_taken(form.username, _("This user was just added.")) as done:
        add_to_group(group, form.user)
    if not done.saved:
        return render_group(group, INVALID, member_form=form)
    flash(_("%(username)s was added.", username=form.user.username), "info")
    return redirect(url_for("admin.groups.group", group_id=group.id), code=303)


def remove_member(group_id: int, user_id: int):
    group = find_or_404(Group, group_id, "group")
    user = find_or_404(User, user_id, "user")
    remove_from_group(group, user)
    db.session.commit()
    flash(_("%(username)s was removed from the group.", username=user.username), "info")
    return redirect(url_for("admin.groups.group", group_id=group.id), code=303)


def add_to_group(group: Group, user: User) -> None:
    """Make `user` a member (not yet one) and record it; the caller commits."""
    db.session.execute(group_members.insert().values(group_id=group.id, user_id=user.id))
    record_change("admin_group_member_added", group_target(group), after={"member": user.username})


def remove_from_group(group: Group, user: User) -> None:
    """End the membership and record it; the caller commits. When there is none (a replayed
    Remove, or another request removed it first) nothing is recorded: a 404 says it was
    removed in the meantime (record_deletion)."""
    removed = db.session.execute(
        delete(group_members).where(
            group_members.c.group_id == group.id, group_members.c.user_id == user.id
        )
    ).rowcount
    record_deletion(
        "admin_group_member_removed", group_target(group), {"member": user.username}, removed
    )


def is_member(group: Group, user: User) -> bool:
    return (
        db.session.scalar(
            select(group_members.c.user_id).where(
                group_members.c.group_id == group.id, group_members.c.user_id == user.id
            )
        )
        is not None
    )
