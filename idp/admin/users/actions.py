"""What an admin does to an account: disable or enable it, set its password or mail a
recovery link, make it an administrator or not, end its sessions, remove its
authenticators."""

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from idp.admin.audit import record_change
from idp.admin.helpers import INVALID, find_or_404
from idp.admin.users.forms import PasswordForm
from idp.admin.users.routes import render_user, user_target
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.credentials import authenticators
from idp.credentials.password_rules import password_problems
from idp.identity.accounts import hold_administrators, set_password
from idp.identity.sessions import end_session, load_current_session, revoke_sessions_of
from idp.mailed_links.recovery_links import RecoveryLinkRefused, send_recovery_link
from idp.models import User, UserSession

LAST_SUPERUSER = N_(
    "%(username)s is the last administrator who can sign in with a password. "
    "Make someone else an administrator first."
)


def is_last_superuser(user: User) -> bool:
    """True when no other active superuser with a password could still open the admin. The
    caller's change follows in this transaction: the lock holds any other check until it is
    committed, so two administrators demoting each other at once never both pass."""
    if not (user.is_superuser and user.is_active and user.has_password):
        return False
    hold_administrators()
    others = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(
            User.is_superuser,
            User.is_active,
            User.password_hash.is_not(None),
            User.id != user.id,
        )
    )
    return others == 0


def back_to(user: User, message: str, category: str = "info"):
    flash(message, category)
    return redirect(url_for("admin.users.user", user_id=user.id), code=303)


def refusal(user: User, message: str):
    """Nothing was changed: say why on the user's page."""
    return back_to(user, message, "error")


def _change_flag(user: User, action: str, field: str, value: bool, **detail) -> None:
    before = {field: getattr(user, field)}
    setattr(user, field, value)
    record_change(action, user_target(user), before, {field: value}, **detail)


def disable_user(user_id: int):
    """Disable the account; every session of theirs ends at once."""
    user = find_or_404(User, user_id, "user")
    if user.id == current_user.id:
        return refusal(user, _("You cannot disable your own account."))
    if is_last_superuser(user):
        return refusal(user, _(LAST_SUPERUSER, username=user.username))
    ended = revoke_sessions_of(user)
    _change_flag(user, "admin_user_disabled", "is_active", False, sessions_ended=ended)
    db.session.commit()
    return back_to(
        user, _("%(username)s is disabled and was signed out everywhere.", username=user.username)
    )


def enable_user(user_id: int):
    user = find_or_404(User, user_id, "user")
    _change_flag(user, "admin_user_enabled", "is_active", True)
    db.session.commit()
    return back_to(user, _("%(username)s may sign in again.", username=user.username))


def grant_superuser(user_id: int):
    user = find_or_404(User, user_id, "user")
    _change_flag(user, "admin_superuser_granted", "is_superuser", True)
    db.session.commit()
    return back_to(user, _("%(username)s is now an administrator.", username=user.username))


def remove_superuser(user_id: int):
    user = find_or_404(User, user_id, "user")
    if is_last_superuser(user):
        return refusal(user, _(LAST_SUPERUSER, username=user.username))
    _change_flag(user, "admin_superuser_removed", "is_superuser", False)
    db.session.commit()
    return back_to(user, _("%(username)s is no longer an administrator.", username=user.username))


def set_user_password(user_id: int):
    """Set a new password; the user's other sessions end (the admin's own one stays)."""
    user = find_or_404(User, user_id, "user")
    form = PasswordForm()
    if form.validate():
        form.password.errors = password_problems(form.password.data, user.username, user.email)
    if form.errors:
        return render_user(user, INVALID, password_form=form)
    had_password = user.has_password
    set_password(user, form.password.data)
    keep = load_current_session() if user.id == current_user.id else None
    ended = revoke_sessions_of(user, keep=keep)
    record_change(
        "admin_password_set",
        user_target(user),
        {"has_password": had_password},
        {"has_password": True},
        sessions_ended=ended,
    )
    db.session.commit()
    return back_to(user, _("The password of %(username)s was set.", username=user.username))


def send_user_recovery_link(user_id: int):
    """Mail the user a link into the recovery flow; the link itself is shown to nobody."""
    user = find_or_404(User, user_id, "user")
    try:
        flow = send_recovery_link(user)
    except RecoveryLinkRefused as error:
        db.session.rollback()
        return refusal(user, str(error))
    record_change("admin_recovery_link_sent", user_target(user), flow=flow.slug)
    db.session.commit()
    return back_to(user, _("A recovery link was mailed to %(email)s.", email=user.email))


def revoke_user_session(user_id: int, session_id: int):
    user = find_or_404(User, user_id, "user")
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        abort(404, description=_("There is no such session of this user."))
    end_session(row)
    record_change(
        "admin_session_revoked",
        user_target(user),
        before={"session": session_id, "ip": row.ip, "user_agent": row.user_agent[:100]},
    )
    db.session.commit()
    return back_to(user, _("That session was signed out."))


def remove_user_authenticator(user_id: int, kind: str, authenticator_id: int):
    user = find_or_404(User, user_id, "user")
    if not authenticators.remove_authenticator(user, kind, authenticator_id):
        abort(404, description=_("There is no such authenticator of this user."))
    record_change(
        "admin_authenticator_removed",
        user_target(user),
        before={"kind": kind, "id": authenticator_id},
    )
    db.session.commit()
    return back_to(user, _("The authenticator was removed."))
