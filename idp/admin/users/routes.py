"""Users: search, create, look at one, edit their details, add to and remove from groups."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from idp.admin.audit import describe, record_change
from idp.admin.group_picker import chosen_group, name_was_given, offer_groups
from idp.admin.helpers import INVALID, find_or_404, saved_unless_taken
from idp.admin.pagination import DEEPEST_ROW, paginate
from idp.admin.users.forms import NewUserForm, PasswordForm, UserForm, UserSearchForm
from idp.admin.users.groups import add_to_group, is_member, remove_from_group
from idp.admin.users.memberships import JoinGroupForm
from idp.admin.users.search import search_users
from idp.core.extensions import db
from idp.core.forms import Form
from idp.core.numbers import whole_number
from idp.credentials import authenticators
from idp.credentials.password_rules import password_problems
from idp.identity.accounts import groups_of, set_password
from idp.identity.sessions import active_sessions_of, load_current_session
from idp.identity.signups import release
from idp.models import Group, User


def user_values(user: User) -> dict:
    """What the audit log keeps of a user, before and after a change."""
    return {
        "username": user.username,
        "email": user.email,
        "name": user.name,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "email_verified": user.is_email_verified,
    }


def user_target(user: User) -> dict:
    return describe("user", user, user.username)


def users():
    """Every user, or those whose username, email or name contains the search text."""
    form = UserSearchForm(request.args)
    if not form.validate():
        return render_template("admin/users/list.html", form=form, page=None), INVALID
    text = form.q.data or ""
    # A search reads every user (LIKE '%text%' has no index): counted only when its page does
    # not tell the count. The whole list is counted and paged by the username index.
    page = paginate(search_users(text), deepest_row=DEEPEST_ROW, counted_when_needed=bool(text))
    return render_template("admin/users/list.html", form=form, page=page)


def new_user():
    form = NewUserForm(email_verified=True)
    if form.validate_on_submit() and form.password.data:
        form.password.errors = password_problems(
            form.password.data, form.username.data, form.email.data or ""
        )
    if not form.is_submitted() or form.errors:
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/users/new.html", form=form), status
    user = User(attributes={}, is_superuser=form.is_superuser.data)
    _copy_details(form, user)
    if form.password.data:
        set_password(user, form.password.data)
    with saved_unless_taken(form.username, _("This username or email was just taken.")) as done:
        db.session.add(user)
        db.session.flush()
        record_change("admin_user_created", user_target(user), after=user_values(user))
    if not done.saved:
        return render_template("admin/users/new.html", form=form), INVALID
    flash(_("The user %(username)s was created.", username=user.username), "info")
    return redirect(url_for("admin.users.user", user_id=user.id), code=303)


def _copy_details(form: UserForm, user: User) -> None:
    # A lapsed sign-up holding the name or address gives it up, as it does to a new sign-up.
    release(form.username.data, form.email.data or None, keep=user)
    user.username = form.username.data
    user.email = form.email.data or None
    user.name = form.name.data or ""
    # An address an administrator vouches for counts as verified (the email_verified claim).
    user.verified_email = user.email if form.email_verified.data else None


def render_user(user: User, status: int = 200, password_form=None, group_form=None):
    """The user's page; a form sent back with its messages is passed in."""
    group_form = group_form or JoinGroupForm(formdata=None)
    offer_groups(group_form.group, not_joined_by=user)
    page = render_template(
        "admin/users/detail.html",
        user=user,
        groups=groups_of(user),
        group_form=group_form,
        sessions=active_sessions_of(user, load_current_session()),
        current_session=load_current_session(),
        authenticators=authenticators.list_authenticators(user),
        password_form=password_form or PasswordForm(formdata=None),
        form=Form(),
    )
    return page, status


def user(user_id: int):
    return render_user(find_or_404(User, user_id, "user"))


def edit_user(user_id: int):
    """Change the username, email and name."""
    user = find_or_404(User, user_id, "user")
    form = UserForm(obj=user, editing=user, email_verified=user.is_email_verified)
    if not form.validate_on_submit():
        status = INVALID if form.is_submitted() else 200
        return render_template("admin/users/edit.html", form=form, user=user), status
    before = user_values(user)
    with saved_unless_taken(form.username, _("This username or email was just taken.")) as done:
        _copy_details(form, user)
        record_change("admin_user_edited", user_target(user), before, user_values(user))
    if not done.saved:
        return render_template("admin/users/edit.html", form=form, user=user), INVALID
    flash(_("The changes were saved."), "info")
    return redirect(url_for("admin.users.user", user_id=user.id), code=303)


def back_to_groups(user: User):
    return redirect(url_for("admin.users.user", user_id=user.id) + "#groups", code=303)


def join_group(user_id: int):
    user = find_or_404(User, user_id, "user")
    form = JoinGroupForm()
    if not form.validate():
        return render_user(user, INVALID, group_form=form)
    if name_was_given(form.group, not_joined_by=user):
        group = chosen_group(form.group, not_joined_by=user)
        if group is None:
            form.group.errors = [_("There is no group by this name.")]
            return render_user(user, INVALID, group_form=form)
    elif whole_number(form.group.data) is None:
        form.group.errors = [_("Choose a group.")]
        return render_user(user, INVALID, group_form=form)
    else:
        group = find_or_404(Group, whole_number(form.group.data), "group")
    if is_member(group, user):
        form.group.errors = [
            _("%(username)s is already in %(name)s.", username=user.username, name=group.name)
        ]
        return render_user(user, INVALID, group_form=form)
    taken = _("%(username)s was just added to %(name)s.", username=user.username, name=group.name)
    with saved_unless_taken(form.group, taken) as done:
        add_to_group(group, user)
    if not done.saved:
        return render_user(user, INVALID, group_form=form)
    flash(
        _("%(username)s was added to the group %(name)s.", username=user.username, name=group.name),
        "info",
    )
    return back_to_groups(user)


def leave_group(user_id: int, group_id: int):
    user = find_or_404(User, user_id, "user")
    group = find_or_404(Group, group_id, "group")
    remove_from_group(group, user)
    db.session.commit()
    flash(
        _(
            "%(username)s was removed from the group %(name)s.",
            username=user.username,
            name=group.name,
        ),
        "info",
    )
    return back_to_groups(user)
