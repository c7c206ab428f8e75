from sqlalchemy.exc import IntegrityError

from idp.core.events import record_event
from idp.core.extensions import db
from idp.core.i18n import N_
from idp.core.network import client_ip
from idp.core.sealing import SealBroken, is_sealed, unseal
from idp.credentials.passwords import hash_password
from idp.flows import once
from idp.flows.context import PENDING_USER_ID, PROMPT_DATA, password_proved
from idp.flows.outcomes import Advance, Deny, Retry
from idp.identity.accounts import find_group, set_password
from idp.identity.sessions import load_current_session, revoke_sessions_of
from idp.identity.signups import email_holder, plan_mark, release, username_is_free
from idp.models import User
from idp.stages.base import StageType
from idp.stages.user_write.authentik import AUTHENTIK
from idp.stages.user_write.options import UserWriteOptions

PROFILE_FIELDS = ("username", "email", "name")
USERNAME_TAKEN = N_("This username is taken.")
EMAIL_TAKEN = N_("This email address is already used by another account.")
NOT_SAVED = N_("Those details could not be saved. Please try again.")
ADDRESS_TAKEN = object()
ATTRIBUTE_PREFIX = "attributes."
# What a plan does once per user_write stage: create or change a user (a password included).
WRITTEN = "user_write"


class UserWriteStage(StageType):
    """Creates or updates the pending user from `prompt_data`, all in one transaction."""

    name = "user_write"
    label = N_("User write")
    description = N_("Saves what the prompts asked into the user.")
    Options = UserWriteOptions
    authentik = AUTHENTIK
    confirm_label = "Save"

    def submit(self, ctx, form):
        options = ctx.options
        data = ctx.data.get(PROMPT_DATA) or {}
        user = ctx.proved_user
        creating = options.user_creation_mode == "always" or (
            user is None and options.user_creation_mode == "when_required"
        )
        if not creating and user is None:
            return Deny(N_("There is no user to update. Please start again."))
        if creating and not (data.get("username") or data.get("email")):
            return Deny(N_("A username or email address is needed to create an account."))
        # A sign-up: the account waits, inactive, for its address to be confirmed by mail.
        is_signup = creating and options.create_users_as_inactive
        username, email = _claimed(data, None if creating else user)
        conflict = _conflict(username, email, is_signup)
        if conflict is ADDRESS_TAKEN:
            return self._address_taken(ctx, data)
        if conflict:
            return conflict
        try:
            # The new row is added inside the savepoint too: a race that takes the name
            # first rolls back only this, and the visitor is told, not shown a 500. The
            # plan's claim goes with it: a refused write may be tried again in this plan.
            with db.session.begin_nested():
                once.claim_or_stop(ctx, WRITTEN)
                release(username, email)
                if creating:
                    user = self._new_user(options, data, ctx.plan_id if is_signup else None)
                self._write(user, data)
        except IntegrityError:
            # A parallel request took the name or the address first; it has committed by now.
            conflict = _conflict(username, email, is_signup) or Retry(NOT_SAVED)
            if conflict is not ADDRESS_TAKEN:
                return conflict
            once.claim_or_stop(ctx, WRITTEN)
            return self._signed_up(data)
        except SealBroken:
            return Retry(NOT_SAVED)
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
        if is_signup:
            return self._signed_up(data)
        updates = {PENDING_USER_ID: user.id, PROMPT_DATA: _without_secrets(data)}
        if is_sealed(data.get("password")):
            updates.update(password_proved(user))  # the plan knows the password it chose
        return Advance(updates, notice=ctx.options.done_message)

    def _address_taken(self, ctx, data):
        """A sign-up with an address that has an account: nothing is made or changed, and the
        visitor is not told. The email stage mails the address's owner instead."""
        try:
            # The work of a new account, so that the answer does not come sooner.
            if is_sealed(data.get("password")):
                hash_password(unseal(data["password"]))
        except SealBroken:
            return Retry(NOT_SAVED)
        # Claimed all the same: a replayed plan must not try another address, and a replay
        # is refused alike whether the address had an account or not.
        once.claim_or_stop(ctx, WRITTEN)
        record_event("signup_address_taken", ip=client_ip(), flow_slug=ctx.flow.slug)
        return self._signed_up(data)

    @staticmethod
    def _signed_up(data):
        # No pending user in the readable cookie: it would tell a new account from a taken
        # address. The email stage finds the account by the plan that made it.
        return Advance({PROMPT_DATA: _without_secrets(data)})

    @staticmethod
    def _new_user(options, data, signup_plan_id: str | None) -> User:
        user = User(
            username=data.get("username") or data.get("email") or "",
            is_active=not options.create_users_as_inactive,
            signup_plan_hash=plan_mark(signup_plan_id) if signup_plan_id else None,
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


def _claimed(data, user) -> tuple[str | None, str | None]:
    """The username and email this write would take that the user does not hold already.
    A user made from an email address only gets the address as username."""
    username = data.get("username") or (data.get("email") if user is None else None)
    email = data.get("email")
    return (
        username if _changes(username, user and user.username) else None,
        email if _changes(email, user and user.email) else None,
    )


def _conflict(username: str | None, email: str | None, is_signup: bool):
    """A Retry for a name or address someone holds (a lapsed sign-up holds nothing), or
    ADDRESS_TAKEN for a sign-up whose address has an account, or None."""
    if username and not username_is_free(username):
        return Retry(USERNAME_TAKEN, field="username")
    if email and email_holder(email) is not None:
        return ADDRESS_TAKEN if is_signup else Retry(EMAIL_TAKEN, field="email")
    return None


def _without_secrets(data) -> dict:
    # Written now: the sealed password need not travel further in the plan.
    return {key: value for key, value in data.items() if not is_sealed(value)}


def _changes(new: str | None, old: str | None) -> bool:
    return bool(new) and new.lower() != (old or "").lower()


def _set_dotted(target: dict, dotted_key: str, value) -> None:
    *parents, last = dotted_key.split(".")
    for part in parents:
        target = target.setdefault(part, {}) if isinstance(target.get(part, {}), dict) else {}
    target[last] = value
