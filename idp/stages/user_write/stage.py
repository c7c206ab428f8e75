from sqlalchemy.exc import IntegrityError

from idp.accounts import email_taken, find_group, set_password, username_taken
from idp.events import record_event
from idp.extensions import db
from idp.flows.context import PENDING_USER_ID, PROMPT_DATA
from idp.flows.outcomes import Advance, Deny, Retry
from idp.models import User
from idp.network import client_ip
from idp.sealing import SealBroken, is_sealed, unseal
from idp.sessions import load_current_session, revoke_sessions_of
from idp.stages.base import StageType
from idp.stages.user_write.forms import OptionsForm
from idp.stages.user_write.options import UserWriteOptions

PROFILE_FIELDS = ("username", "email", "name")
ATTRIBUTE_PREFIX = "attributes."


class UserWriteStage(StageType):
    """Creates or updates the pending user from `prompt_data`, all in one transaction."""

    name = "user_write"
    label = "User write"
    description = "Saves what the prompts asked into the user."
    Options = UserWriteOptions
    options_form = OptionsForm
    confirm_label = "Save"

    def submit(self, ctx, form):
        options = ctx.options
        data = ctx.data.get(PROMPT_DATA) or {}
        user = ctx.proved_user
        creating = options.user_creation_mode == "always" or (
            user is None and options.user_creation_mode == "when_required"
        )
        if not creating and user is None:
            return Deny("There is no user to update. Please start again.")
        if creating and not (data.get("username") or data.get("email")):
            return Deny("A username or email address is needed to create an account.")
        conflict = self._conflict(data, None if creating else user)
        if conflict:
            return Retry(conflict)
        try:
            # The new row is added inside the savepoint too: a race that takes the name
            # first rolls back only this, and the visitor is told, not shown a 500.
            with db.session.begin_nested():
                if creating:
                    user = self._new_user(options, data)
                self._write(user, data)
        except (IntegrityError, SealBroken):
            return Retry("Those details could not be saved. Please try again.")
        if not creating and is_sealed(data.get("password")):
            # A new password shuts out whoever knew the old one (recovery, password change):
            # every session of the user ends but the one making the change.
            revoke_sessions_of(user, keep=load_current_session())
        record_event(
            "user_created" if creating else "user_updated",
            user=user,
            ip=client_ip(),
            flow_slug=ctx.flow.slug,
            fields=sorted(key for key in data if key in PROFILE_FIELDS or key == "password"),
        )
        # Written now: the sealed password need not travel further in the plan.
        kept = {key: value for key, value in data.items() if not is_sealed(value)}
        return Advance({PENDING_USER_ID: user.id, PROMPT_DATA: kept})

    @staticmethod
    def _conflict(data, user) -> str:
        # A user made from an email address only gets the address as username.
        username = data.get("username") or (data.get("email") if user is None else None)
        email = data.get("email")
        if _changes(username, user and user.username) and username_taken(username):
            return "This username is taken."
        if _changes(email, user and user.email) and email_taken(email):
            return "This email address is already used by another account."
        return ""

    @staticmethod
    def _new_user(options, data) -> User:
        user = User(
            username=data.get("username") or data.get("email") or "",
            is_active=not options.create_users_as_inactive,
            is_superuser=options.create_users_as_superuser,
            attributes={},
        )
        group = find_group(options.create_users_group) if options.create_users_group else None
        user.groups = [group] if group is not None else []
        db.session.add(user)
        return user

    @staticmethod
    def _write(user: User, data) -> None:
        attributes = dict(user.attributes or {})
        for key, value in data.items():
            if key in PROFILE_FIELDS and value:
                setattr(user, key, value)
            elif key == "password" and is_sealed(value):
                set_password(user, unseal(value))
            elif key.startswith(ATTRIBUTE_PREFIX):
                _set_dotted(attributes, key[len(ATTRIBUTE_PREFIX) :], value)
        user.attributes = attributes
        db.session.flush()


def _changes(new: str | None, old: str | None) -> bool:
    return bool(new) and new.lower() != (old or "").lower()


def _set_dotted(target: dict, dotted_key: str, value) -> None:
    *parents, last = dotted_key.split(".")
    for part in parents:
        target = target.setdefault(part, {}) if isinstance(target.get(part, {}), dict) else {}
    target[last] = value
