"""Checking the password someone signs in with: the password stage and an identification
stage that asks for the password on the same page share it, so both count failed attempts
the same way (before the hash runs), throttle alike, and answer unknown names like wrong
passwords (a dummy hash, one message)."""

from dataclasses import dataclass

from flask_babel import gettext as _

from idp.core import metrics
from idp.core.events import record_event
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.credentials.passwords import check_password
from idp.flows.context import SIGN_IN_PROVED_FOR
from idp.identity import devices
from idp.identity.accounts import upgrade_password_hash
from idp.mailed_links import sign_in_links
from idp.models import User
from idp.protection import attempts, reputation

INVALID = N_("Invalid username or password.")
PROOF_NEEDED = (
    "There were many failed sign-ins for this account. If it has an email address, we mailed "
    "it a sign-in link: open it in this browser, then enter the password again."
)


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None  # the user the password proved, None when it was refused
    problem: str = ""


def check_sign_in_password(ctx, uid: str, user: User | None, password: str) -> PasswordCheck:
    """Check `password` for `user` (None: nobody has the name typed as `uid`) in the flow
    `ctx` is running."""
    trusted_device = devices.trusted_device_of(user)
    account = attempts.account_key(uid or (user.username if user else ""), trusted_device)
    # A plan that followed the account's mailed link is counted on its own: the run of
    # failures on the name no longer holds its passwords back.
    proved = trusted_device is None and ctx.data.get(SIGN_IN_PROVED_FOR) == account
    counted_as = attempts.proved_key(ctx.plan_id) if proved else account
    username = user.username if user is not None else uid
    ip = client_ip()
    usable = user is not None and user.is_active
    flow_slug = ctx.flow.slug
    # Counted before the hash runs, so parallel or replayed attempts cannot outrun it.
    wait = attempts.take_attempt(
        counted_as, ip, needs_proof_past_run=trusted_device is None and not proved
    )
    if wait == attempts.NEEDS_PROOF:
        record_event("login_proof_required", username=uid, ip=ip, flow_slug=flow_slug)
        sign_in_links.send_link(ctx, account, user if usable else None)
        return PasswordCheck(None, PROOF_NEEDED)
    if wait:
        record_event("login_throttled", username=uid, ip=ip, flow_slug=flow_slug, wait=wait)
        message = _("Too many failed attempts. Try again in %(seconds)d s.", seconds=wait)
        return PasswordCheck(None, message)
    if not check_password(password, user.password_hash if usable else None):
        record_event("login_failed", username=uid, ip=ip, flow_slug=flow_slug)
        metrics.SIGN_IN_FAILURES.labels("password").inc()
        reputation.record_sign_in(username, ip, succeeded=False)
        return PasswordCheck(None, INVALID)
    # The rehash (a bcrypt run, now and then) before the counts: they hold their rows, and
    # SQLite its one write lock, until the request commits.
    upgrade_password_hash(user, password)
    attempts.attempt_succeeded(counted_as, ip)
    devices.remember_device(user)
    reputation.record_sign_in(username, ip, succeeded=True)
    return PasswordCheck(user)
