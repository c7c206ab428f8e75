from idp import attempts, devices, metrics, reputation
from idp.events import record_event
from idp.flows.context import AUTH_METHOD, PENDING_USER_ID, SIGN_IN_PROVED_FOR, UID
from idp.flows.outcomes import Advance, Retry
from idp.network import client_ip
from idp.passwords import check_password
from idp.stages.base import StageType
from idp.stages.password import proof
from idp.stages.password.authentik import AUTHENTIK
from idp.stages.password.forms import OptionsForm, PasswordForm

INVALID = "Invalid username or password."
PROOF_NEEDED = (
    "There were many failed sign-ins for this account. If it has an email address, we mailed "
    "it a sign-in link: open it in this browser, then enter the password again."
)


class PasswordStage(StageType):
    """Checks the password of the user named earlier (or of the signed-in user)."""

    name = "password"
    label = "Password"
    authentik = AUTHENTIK
    description = "Asks for the password and checks it."
    options_form = OptionsForm
    form_class = PasswordForm
    blueprint = proof.bp

    def render(self, ctx) -> dict:
        return {"uid": ctx.data.get(UID, "")}

    def submit(self, ctx, form):
        uid = ctx.data.get(UID, "")
        user = ctx.pending_user or ctx.current_user
        trusted_device = devices.trusted_device_of(user)
        account = attempts.account_key(uid or (user.username if user else ""), trusted_device)
        # A plan that followed the account's mailed link is counted on its own: the run of
        # failures on the name no longer holds its passwords back.
        proved = trusted_device is None and ctx.data.get(SIGN_IN_PROVED_FOR) == account
        counted_as = attempts.proved_key(ctx.plan_id) if proved else account
        username = user.username if user is not None else uid
        ip = client_ip()
        usable = user is not None and user.is_active
        # Counted before the hash runs, so parallel or replayed attempts cannot outrun it.
        wait = attempts.take_attempt(
            counted_as, ip, needs_proof_past_run=trusted_device is None and not proved
        )
        if wait == attempts.NEEDS_PROOF:
            record_event("login_proof_required", username=uid, ip=ip, flow_slug=ctx.flow.slug)
            proof.send_link(ctx, account, user if usable else None)
            return Retry(PROOF_NEEDED, field="password")
        if wait:
            record_event("login_throttled", username=uid, ip=ip, flow_slug=ctx.flow.slug, wait=wait)
            return Retry(f"Too many failed attempts. Try again in {wait} s.", field="password")
        if not check_password(form.password.data, user.password_hash if usable else None):
            record_event("login_failed", username=uid, ip=ip, flow_slug=ctx.flow.slug)
            metrics.SIGN_IN_FAILURES.labels("password").inc()
            reputation.record_sign_in(username, ip, succeeded=False)
            return Retry(INVALID, field="password")
        attempts.attempt_succeeded(counted_as, ip)
        devices.remember_device(user)
        reputation.record_sign_in(username, ip, succeeded=True)
        return Advance({PENDING_USER_ID: user.id, AUTH_METHOD: "password"})
