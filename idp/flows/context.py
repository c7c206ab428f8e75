"""Plan-context keys and the StageContext handed to a stage.

Everything in the plan context ends up in a readable cookie: plain, non-secret values only.
Secrets a flow must carry are sealed (idp.core.sealing) or kept in the database.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flask import has_request_context, request

from idp.core.extensions import db
from idp.core.i18n import N_
from idp.identity.accounts import find_user
from idp.models import Flow, StageBinding, User

# The identifier typed at identification and the fields it may match. The resolved user is
# not written here: a readable cookie must not tell whether an account exists.
UID = "uid"
UID_FIELDS = "uid_fields"
# Set once the user has proved who they are (a password, a link, a code).
PENDING_USER_ID = "pending_user_id"
AUTH_METHOD = "auth_method"
# The user whose password the identification stage checked on its own page (its password
# field); a password stage that follows for that same user is passed by.
PASSWORD_CHECKED_FOR = "password_checked_for"  # noqa: S105 (a context key)
# The user a passkey signed in without a password, having verified them (PIN, biometrics):
# a password stage and a second-factor check that follow for that same user are passed by.
PASSKEY_VERIFIED_FOR = "passkey_verified_for"
# Which of the user's passwords this plan proved: when that password was set (a POSIX time,
# or None for one set before that was recorded). A password changed since (by its owner
# elsewhere, or an administrator) shuts the plan out at user_login, as it ends the user's
# sessions: whoever knew the old password must not finish signing in with it.
PASSWORD_PROVED = "password_proved"  # noqa: S105 (a context key)
PROMPT_DATA = "prompt_data"
# What a key in prompt_data looks like: a prompt field's key, or a dotted attribute path.
PROMPT_KEY_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*\Z")
# Reserved for the applications (OIDC clients, forward-auth) a flow signs the user in to.
APPLICATION = "application"


def _password_set_at(user: User) -> float | None:
    changed_at = user.password_changed_at
    return changed_at.timestamp() if changed_at is not None else None


def password_proved(user: User) -> dict:
    """The context update of a stage that has just checked (or written) the user's password."""
    return {PASSWORD_PROVED: [_password_set_at(user)]}


# Why a proved user is not signed in after all (the user_login stage, and the executor again
# as the session starts).
NO_ONE_TO_SIGN_IN = N_("There is no one to sign in. Please start again.")
PASSWORD_CHANGED_MEANWHILE = N_("The password was changed meanwhile. Please sign in again.")


def password_changed_since_proved(user: User, data: Mapping[str, Any]) -> bool:
    """Compared, not ordered by time: no clock of any machine matters."""
    proved = data.get(PASSWORD_PROVED)
    return isinstance(proved, list) and proved != [_password_set_at(user)]


def resolve_pending_user(data: Mapping[str, Any]) -> User | None:
    """The user this flow is about: proved, else the one named at identification.

    Looked up once per request for the same context: the policy request and every stage
    passed over ask again. The executor forgets the answers after each stage's submit, the
    only place a flow creates, renames or deletes a user (forget_pending_users)."""
    fields = tuple(data.get(UID_FIELDS) or ("username", "email"))
    key = (data.get(PENDING_USER_ID), data.get(UID) or None, fields)
    if key == (None, None, fields):
        return None
    known = _known_pending_users()
    # Holding the object also keeps it in the session's identity map (a weak one), so
    # db.session.get() for the same id later in the request sends no query.
    if key not in known:
        known[key] = _look_up_pending_user(data, fields)
    return known[key]


def _look_up_pending_user(data, fields) -> User | None:
    if data.get(PENDING_USER_ID) is not None:
        return db.session.get(User, data[PENDING_USER_ID])
    return find_user(data[UID], fields)


def _known_pending_users() -> dict:
    # Kept with the request itself: an app context (and its `g`) may span several requests
    # in tests and scripts. Outside a request nothing is remembered.
    if not has_request_context():
        return {}
    return request.environ.setdefault("gatehouse.pending_users", {})


def forget_pending_users() -> None:
    """Users may have changed (a stage wrote one): look them up afresh. The objects stay
    referenced, so a later get by id still comes from the identity map (always current)."""
    if has_request_context():
        known = request.environ.pop("gatehouse.pending_users", {})
        request.environ.setdefault("gatehouse.seen_users", []).extend(known.values())


@dataclass
class StageContext:
    flow: Flow
    binding: StageBinding
    options: Any
    data: Mapping[str, Any]
    plan_id: str
    current_user: User | None = None
    # A copy of the whole plan, for a stage that keeps it server-side to be resumed later
    # (an emailed link); changing it changes nothing.
    plan_snapshot: dict = field(default_factory=dict)

    @cached_property
    def pending_user(self) -> User | None:
        """The user the flow is about: proved, else merely named at identification."""
        return resolve_pending_user(self.data)

    @property
    def proved_user(self) -> User | None:
        """The user only once a stage has proved who they are (or they were signed in);
        never someone whose name was merely typed."""
        return self.pending_user if self.data.get(PENDING_USER_ID) is not None else None


# Authenticator setup, both sealed: the new TOTP secret until the app has proved it has it,
# and the new recovery codes until the user says they are saved.
TOTP_SETUP = "totp_setup"
NEW_RECOVERY_CODES = "new_recovery_codes"

# The email stage: the binding that already sent its link on arrival (so a reload does not
# send another), and the marker a followed link leaves (the address was proved).
EMAIL_SENT_FOR = "email_sent_for"
# The account (idp.protection.attempts.account_key) whose mailed sign-in link this plan
# followed: its passwords are weighed past a long run of failures (idp.mailed_links.sign_in_links).
SIGN_IN_PROVED_FOR = "sign_in_proved_for"
EMAIL_VERIFIED = "email_verified"

# The invitation a flow was entered with (its fixed data is merged into prompt_data).
INVITATION_ID = "invitation_id"
