"""A new password must differ from the user's current one and from the last few before it."""

import time
from dataclasses import dataclass

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.credentials.passwords import check_password
from idp.identity.accounts import PASSWORD_HISTORY_LENGTH, password_history
from idp.models import User
from idp.policies.base import PolicyType
from idp.policies.password import candidate_password
from idp.policies.types import PolicyError, PolicyResult, policy_deadline


@dataclass(frozen=True)
class UniquePasswordOptions:
    password_field: str = option(
        "password",
        N_("The key of the prompt field holding the new password."),
    )
    num_historical_passwords: int = option(
        1,
        N_(
            "How many passwords the new one may not repeat, the current one included: 1 means "
            '"not the current password", 3 "not the current one nor the two before it".'
        ),
    )

    def validate(self):
        if not self.password_field:
            raise OptionsError("password_field", N_("must name the prompt field to check"))
        if not 1 <= self.num_historical_passwords <= PASSWORD_HISTORY_LENGTH:
            raise OptionsError(
                "num_historical_passwords",
                N_("must be from 1 to %(password_history_length)s"),
                password_history_length=PASSWORD_HISTORY_LENGTH,
            )


USED_BEFORE = N_("You used this password before. Choose a new one.")


class UniquePasswordPolicy(PolicyType):
    """Bind it as a prompt's validation policy in password-change and recovery flows.

    At enrollment there is no user yet, hence nothing to compare with: it passes. Each
    earlier password costs one bcrypt check, so keep `num_historical_passwords` small.
    """

    name = "unique_password"
    label = N_("Password not used before")
    description = N_("Fails when the new password is the current one or one of the last few.")
    Options = UniquePasswordOptions

    def evaluate(self, request, options: UniquePasswordOptions) -> PolicyResult:
        password = candidate_password(request, options.password_field)
        user = db.session.get(User, request.user.id) if request.user.id is not None else None
        if user is None:
            return PolicyResult(True)
        for password_hash in password_history(user, options.num_historical_passwords):
            deadline = policy_deadline()
            if deadline is not None and time.monotonic() > deadline:
                raise PolicyError(N_("ran out of time comparing earlier passwords"))
            if check_password(password, password_hash):
                return PolicyResult(
                    False, (N_("You used this password before. Choose a new one."),)
                )
        return PolicyResult(True)
