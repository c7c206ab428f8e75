"""Every model, imported here so that Alembic and create_all see the whole schema."""

from idp.models.applications import Application, AuthorizationRequest, Provider
from idp.models.attempts import FailedAttempts
from idp.models.authenticators import StaticCode, TotpDevice
from idp.models.brand import Brand, BrandFile
from idp.models.consents import Consent
from idp.models.credentials import PasswordHistory
from idp.models.events import Event
from idp.models.flows import Flow, FlowsRevision, Stage, StageBinding
from idp.models.mail_limits import MailSendCount
from idp.models.oauth2 import (
    AuthorizationCode,
    OAuth2Token,
    ScopeMapping,
    SessionApplication,
    SigningKey,
)
from idp.models.plan_effects import PlanEffect
from idp.models.policies import Policy, PolicyBinding
from idp.models.reputation import ReputationScore
from idp.models.sessions import UserSession
from idp.models.site_settings import SiteSetting
from idp.models.tokens import FlowToken, Invitation
from idp.models.users import Group, User, group_members
from idp.models.webauthn import WebAuthnChallenge, WebAuthnDevice

__all__ = [
    "Application",
    "AuthorizationCode",
    "AuthorizationRequest",
    "Brand",
    "BrandFile",
    "Consent",
    "Event",
    "FailedAttempts",
    "Flow",
    "FlowToken",
    "FlowsRevision",
    "Group",
    "Invitation",
    "MailSendCount",
    "OAuth2Token",
    "PasswordHistory",
    "PlanEffect",
    "Policy",
    "PolicyBinding",
    "Provider",
    "ReputationScore",
    "ScopeMapping",
    "SessionApplication",
    "SigningKey",
    "SiteSetting",
    "Stage",
    "StageBinding",
    "StaticCode",
    "TotpDevice",
    "User",
    "UserSession",
    "WebAuthnChallenge",
    "WebAuthnDevice",
    "group_members",
]
