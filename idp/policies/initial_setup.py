"""Gates the initial-setup flow: open only while no superuser has a password."""

from sqlalchemy import exists, select

from idp.extensions import db
from idp.models import User
from idp.policies.base import PolicyType
from idp.policies.types import PolicyResult


def setup_is_pending() -> bool:
    has_admin = db.session.scalar(
        select(exists().where(User.is_superuser.is_(True), User.password_hash.is_not(None)))
    )
    return not has_admin


class InitialSetupPolicy(PolicyType):
    name = "initial_setup"
    label = "Initial setup pending"
    description = "Passes while no superuser has a password, so setup can run only once."

    def evaluate(self, request, options) -> PolicyResult:
        if setup_is_pending():
            return PolicyResult(True)
        return PolicyResult(False, ("Gatehouse is already set up. Sign in instead.",))
