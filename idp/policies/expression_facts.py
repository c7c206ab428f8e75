"""What an expression knows of the flow beyond its context, and what it may answer besides
true or false: `plan`, `has_authenticator(...)` and `deny(...)` (README, "Expressions").

They exist for what authentik's Python expression policies ask most (translated by
idp/transfer/python_expressions.py), and are there for hand-written expressions too.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from idp.core.i18n import N_
from idp.credentials.authenticators import RECOVERY_CODES, TOTP, WEBAUTHN, kinds_of
from idp.flows.context import AUTH_METHOD, EMAIL_VERIFIED, PENDING_USER_ID, SIGN_IN_PROVED_FOR
from idp.policies.types import PolicyError, PolicyUser

MAX_MESSAGES = 10
MAX_MESSAGE_LENGTH = 500
# The kinds has_authenticator() takes, as Gatehouse keeps them.
AUTHENTICATOR_KINDS = {"totp": TOTP, "recovery_codes": RECOVERY_CODES, "webauthn": WEBAUTHN}


@dataclass(frozen=True)
class PlanView:
    """Facts of the running flow that its context holds only indirectly."""

    # The flow went on from a link it mailed (an email stage's link, or a sign-in link).
    is_restored: bool
    # How the user last proved who they are in this flow: password, passkey, totp, webauthn
    # or recovery_code ("" before). A second factor replaces the password once checked.
    auth_method: str
    # A stage of this flow has proved who the user is (a password, a passkey, a mailed link),
    # rather than the user having only been named.
    is_user_proved: bool


def plan_view(context: Mapping) -> PlanView:
    return PlanView(
        is_restored=bool(context.get(EMAIL_VERIFIED))
        or context.get(SIGN_IN_PROVED_FOR) is not None,
        auth_method=str(context.get(AUTH_METHOD) or ""),
        is_user_proved=context.get(PENDING_USER_ID) is not None,
    )


@dataclass(frozen=True)
class Denial:
    """A false result that carries the messages the visitor is shown."""

    messages: tuple[str, ...]

    def __bool__(self) -> bool:
        return False


def deny(*messages) -> Denial:
    if len(messages) > MAX_MESSAGES:
        raise PolicyError(N_("deny() takes at most %(count)s messages"), count=MAX_MESSAGES)
    texts = tuple(str(message) for message in messages)
    if any(len(text) > MAX_MESSAGE_LENGTH for text in texts):
        raise PolicyError(
            N_("deny() messages are at most %(length)s characters"), length=MAX_MESSAGE_LENGTH
        )
    return Denial(texts)


def authenticator_check():
    """has_authenticator(user, kind=""), asking the database once per user per evaluation."""
    known: dict[int, frozenset[str]] = {}

    def has_authenticator(user, kind: str = "") -> bool:
        if not isinstance(user, PolicyUser):
            raise PolicyError(N_("has_authenticator() takes a user"))
        if kind and kind not in AUTHENTICATOR_KINDS:
            raise PolicyError(
                N_("has_authenticator() kinds are %(kinds)s"), kinds=", ".join(AUTHENTICATOR_KINDS)
            )
        if user.id is None:
            return False
        if user.id not in known:
            known[user.id] = kinds_of(user, with_passkeys=True)
        kinds = known[user.id]
        return AUTHENTICATOR_KINDS[kind] in kinds if kind else bool(kinds)

    return has_authenticator
