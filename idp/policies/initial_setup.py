"""Gates the initial-setup flow: open only while no superuser has a password."""

from sqlalchemy import exists, select

from idp.core.database import hold_until_commit
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.models import User
from idp.policies.base import PolicyType
from idp.policies.types import PolicyResult

# An arbitrary constant naming the PostgreSQL advisory lock that serialises initial setup.
SETUP_LOCK_KEY = 7_154_620_011


def setup_is_pending() -> bool:
    has_admin = db.session.scalar(
        select(exists().where(User.is_superuser.is_(True), User.password_hash.is_not(None)))
    )
    return not has_admin


class InitialSetupPolicy(PolicyType):
    name = "initial_setup"
    label = N_("Initial setup pending")
    description = N_("Passes while no superuser has a password, so setup can run only once.")

    def evaluate(self, request, options) -> PolicyResult:
        _wait_for_other_setups()
        if setup_is_pending():
            return PolicyResult(True)
        return PolicyResult(False, (N_("Gatehouse is already set up. Sign in instead."),))


def _wait_for_other_setups() -> None:
    """Hold a lock until this request commits, so two people finishing setup at once cannot
    both pass the gate before either has written the administrator. SQLite runs one writer
    at a time and is meant for a single laptop; PostgreSQL needs the lock."""
    hold_until_commit(db.session, SETUP_LOCK_KEY)
