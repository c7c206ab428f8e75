from idp.core.events import record_event
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.flows.context import (
    AUTH_METHOD,
    NO_ONE_TO_SIGN_IN,
    PASSWORD_CHANGED_MEANWHILE,
    password_changed_since_proved,
)
from idp.flows.outcomes import Advance, Deny, StartSession
from idp.stages.base import StageType
from idp.stages.user_login.authentik import AUTHENTIK
from idp.stages.user_login.options import UserLoginOptions


class UserLoginStage(StageType):
    """Signs the proved user in: a new session with a new key."""

    name = "user_login"
    label = N_("User login")
    description = N_("Starts a session for the user the flow has proved.")
    Options = UserLoginOptions
    authentik = AUTHENTIK
    confirm_label = "Sign in"

    def submit(self, ctx, form):
        user = ctx.proved_user
        if user is None or not user.is_active:
            return Deny(NO_ONE_TO_SIGN_IN)
        if password_changed_since_proved(user, ctx.data):
            return Deny(PASSWORD_CHANGED_MEANWHILE)
        record_event(
            "login",
            user=user,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            method=ctx.data.get(AUTH_METHOD, ""),
        )
        return Advance(session=StartSession(user.id, ctx.options.lifetime))
