"""Checking the password someone signs in with: the password stage and an identification
stage that asks for the password on the same page share it, so both count failed attempts
the same way (before the hash runs), throttle alike, and answer unknown names like wrong
passwords (a dummy hash, one message)."""

from dataclasses import dataclass

from idp import attempts, devices, metrics, reputation
from idp.accounts import upgrade_password_hash
from idp.events import record_event
from idp.models import User
from idp.network import client_ip
from idp.passwords import check_password

INVALID = "Invalid username or password."


@dataclass(frozen=True)
class PasswordCheck:
    user: User | None  # the user the password proved, None when it was refused
    problem: str = ""


def check_sign_in_password(
    uid: str, user: User | None, password: str, flow_slug: str
) -> PasswordCheck:
    """Check `password` for `user` (None: nobody has the name typed as `uid`)."""
    account = attempts.account_key(
        uid or (user.username if user else ""), devices.trusted_device_of(user)
    )
    username = user.username if user is not None else uid
    ip = client_ip()
    # Counted before the hash runs, so parallel or replayed attempts cannot outrun it.
    wait = attempts.take_attempt(account, ip)
    if wait:
        record_event("login_throttled", username=uid, ip=ip, flow_slug=flow_slug, wait=wait)
        return PasswordCheck(None, f"Too many failed attempts. Try again in {wait} s.")
    usable = user is not None and user.is_active
    if not check_password(password, user.password_hash if usable else None):
        record_event("login_failed", username=uid, ip=ip, flow_slug=flow_slug)
        metrics.SIGN_IN_FAILURES.labels("password").inc()
        reputation.record_sign_in(username, ip, succeeded=False)
        return PasswordCheck(None, INVALID)
    attempts.attempt_succeeded(account, ip)
    upgrade_password_hash(user, password)
    devices.remember_device(user)
    reputation.record_sign_in(username, ip, succeeded=True)
    return PasswordCheck(user)
