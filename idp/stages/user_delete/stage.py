from sqlalchemy import func, select

from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.flows import once
from idp.flows.context import PENDING_USER_ID
from idp.flows.outcomes import Advance, Deny, EndSession
from idp.identity.accounts import hold_administrators
from idp.identity.deletion import delete_user, is_named_by_a_binding
from idp.identity.sessions import revoke_sessions_of
from idp.models import User
from idp.stages.base import StageType
from idp.stages.user_delete.authentik import AUTHENTIK
from idp.stages.user_delete.options import UserDeleteOptions

NAMED_IN_A_BINDING = N_(
    "Your account is named in who may use part of this site, so it cannot be deleted here. "
    "Please ask an administrator."
)


class UserDeleteStage(StageType):
    """Deletes the flow's user for good; the flow's earlier stages are the confirmation."""

    name = "user_delete"
    label = N_("User delete")
    description = N_("Deletes the signed-in user's account and ends all their sessions.")
    Options = UserDeleteOptions
    authentik = AUTHENTIK
    confirm_label = "Delete my account"

    def submit(self, ctx, form):
        user = ctx.proved_user
        if user is None:
            return Deny(N_("There is no account to delete. Please start again."))
        if ctx.current_user is not None and ctx.current_user.id != user.id:
            return Deny(N_("Only your own account can be deleted here."))
        if user.is_superuser and _is_last_administrator(user):
            # Without an administrator, initial setup would open to the first visitor.
            return Deny(
                N_("You are the only administrator. Make someone else an administrator first.")
            )
        if is_named_by_a_binding(user):
            return Deny(NAMED_IN_A_BINDING)
        once.claim_or_stop(ctx, "user_delete")
        ended = revoke_sessions_of(user)
        record_event(
            "user_deleted",
            username=user.username,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            user_id=user.id,
            sessions_ended=ended,
        )
        if not delete_user(user):
            # A binding named the user since the check above: nothing of this stage stays.
            db.session.rollback()
            return Deny(NAMED_IN_A_BINDING)
        return Advance(
            {PENDING_USER_ID: None}, session=EndSession(), notice=ctx.options.done_message
        )


def _is_last_administrator(user: User) -> bool:
    hold_administrators()
    others = db.session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_superuser, User.is_active, User.id != user.id)
    )
    return others == 0
