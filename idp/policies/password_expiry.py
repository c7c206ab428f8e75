"""Passwords older than a set number of days: refuse them, or send the user to change them."""

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.models import User
from idp.models.types import utcnow
from idp.policies.base import PolicyType
from idp.policies.types import PolicyError, PolicyResult

MESSAGES = {
    "deny": "Your password has expired. Please ask an administrator to reset it.",
    "force_change": "Your password has expired and must be changed.",
}


@dataclass(frozen=True)
class PasswordExpiryOptions:
    max_age_days: int = option(
        90,
        N_("Days a password stays good after it was set (1 to 3650); then it counts as expired."),
    )
    action: Literal["deny", "force_change"] = option(
        "deny",
        N_(
            "What the flow around this policy is set up to do with an expired password (bind the "
            "policy with negate on, as this type's description explains)."
        ),
        choices={
            "deny": N_("Deny: stop the sign-in, with a deny stage's message"),
            "force_change": N_("Force a change: ask for a new password before going on"),
        },
    )

    def validate(self):
        if not 1 <= self.max_age_days <= 3650:
            raise OptionsError("max_age_days", N_("must be from 1 to 3650"))


class PasswordExpiryPolicy(PolicyType):
    """Passes while the user's password is younger than `max_age_days`; fails once it is
    that old. A password with no recorded change date counts as expired: nothing proves it
    is fresh. With no user, or a user without a password, it cannot decide (PolicyError).

    The user must be proved before this is asked: bind it only to stages after the password
    stage, with `evaluate_on_plan: false` and `re_evaluate_policies: true` (at plan time
    nobody is known; checked just before the stage runs, it sees the user the password
    stage proved). Before that, the flow's user is only named at identification, and a
    stage that appears or not would tell a stranger whether that account's password is old.

    `deny`: after the password stage, add a `deny` stage whose message says what to do, and
    bind this policy to it with `negate: true`: the sign-in stops there when the password
    is old. The `deny` message is what the policy says where its messages are shown (a flow
    binding in a flow for signed-in users, a prompt's validation policies).

    `force_change`: after the password stage, add a prompt (the new password and its
    repeat, with `validation_policies` such as a `password` and a `unique_password` policy)
    and a `user_write` stage with `user_creation_mode: never`, and bind this policy to both
    stage bindings with `negate: true`. Negated, the bindings pass only when the password is
    old, so the two stages run only then; a static prompt field can say why they appear.
    """

    name = "password_expiry"
    label = N_("Password age")
    description = N_("Fails when the user's password is older than a set number of days.")
    Options = PasswordExpiryOptions

    def evaluate(self, request, options: PasswordExpiryOptions) -> PolicyResult:
        user = db.session.get(User, request.user.id) if request.user.id is not None else None
        if user is None or user.password_hash is None:
            raise PolicyError(N_("no user with a password to check the age of"))
        changed_at = user.password_changed_at
        max_age = timedelta(days=options.max_age_days)
        if changed_at is not None and utcnow() - changed_at < max_age:
            return PolicyResult(True)
        return PolicyResult(False, (MESSAGES[options.action],))
