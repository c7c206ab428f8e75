from idp import attempts, devices, metrics, reputation
from idp.events import record_event
from idp.flows.context import AUTH_METHOD, PENDING_USER_ID, UID
from idp.flows.outcomes import Advance, Retry
from idp.network import client_ip
from idp.passwords import check_password
from idp.stages.base import StageType
from idp.stages.password.authentik import AUTHENTIK
from idp.stages.password.forms import PasswordForm

INVALID = "Invalid username or password."


class PasswordStage(StageType):
    """Checks the password of the user named earlier (or of the signed-in user)."""

    name = "password"
    label = "Password"
    authentik = AUTHENTIK
    description = "Asks for the password and checks it."
    form_class = PasswordForm

    def render(self, ctx) -> dict:
        return {"uid": ctx.data.get(UID, "")}

    def submit(self, ctx, form):
        uid = ctx.data.get(UID, "")
        user = ctx.pending_user or ctx.current_user
        account = attempts.account_key(
            uid or (user.username if user else ""), devices.trusted_device_of(user)
        )
        username = user.username if user is not None else uid
        ip = client_ip()
        # Counted before the hash runs, so parallel or replayed attempts cannot outrun it.
        wait = attempts.take_attempt(account, ip)
        if wait:
            record_event("login_throttled", username=uid, ip=ip, flow_slug=ctx.flow.slug, wait=wait)
            return Retry(f"Too many failed attempts. Try again in {wait} s.", field="password")
        usable = user is not None and user.is_active
        if not check_password(form.password.data, user.password_hash if usable else None):
            record_event("login_failed", username=uid, ip=ip, flow_slug=ctx.flow.slug)
            metrics.SIGN_IN_FAILURES.labels("password").inc()
            reputation.record_sign_in(username, ip, succeeded=False)
            return Retry(INVALID, field="password")
        attempts.attempt_succeeded(account, ip)
        devices.remember_device(user)
        reputation.record_sign_in(username, ip, succeeded=True)
        return Advance({PENDING_USER_ID: user.id, AUTH_METHOD: "password"})
