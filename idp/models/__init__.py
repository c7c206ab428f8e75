"""Every model, imported here so that Alembic and create_all see the whole schema."""

from idp.models.attempts import FailedAttempts
from idp.models.credentials import PasswordHistory
from idp.models.events import Event
from idp.models.flows import Flow, Stage, StageBinding
from idp.models.policies import Policy, PolicyBinding
from idp.models.reputation import ReputationScore
from idp.models.sessions import UserSession
from idp.models.users import Group, User, group_members

__all__ = [
    "Event",
    "FailedAttempts",
    "Flow",
    "Group",
    "PasswordHistory",
    "Policy",
    "PolicyBinding",
    "ReputationScore",
    "Stage",
    "StageBinding",
    "User",
    "UserSession",
    "group_members",
]
