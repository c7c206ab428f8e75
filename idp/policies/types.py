"""The small values the policy engine and the policy types pass around."""

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from idp.core.i18n import Sentence


class PolicyError(Exception):
    """A policy could not decide (bad options, bad expression, missing data, time out).
    str() is English (the log, events); `sentence` says it in the admin's language: the
    message is an English constant marked N_, its values kept apart."""

    def __init__(self, message: str, **values):
        self.sentence = Sentence(message, **values)
        super().__init__(self.sentence)


@dataclass(frozen=True)
class PolicyUser:
    """What a policy may know of a user: plain values, no database access."""

    id: int | None = None
    username: str = ""
    email: str = ""
    name: str = ""
    is_authenticated: bool = False
    is_active: bool = False
    is_superuser: bool = False
    groups: tuple[str, ...] = ()
    group_ids: frozenset[int] = frozenset()
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_user(cls, user, groups) -> "PolicyUser":
        return cls(
            id=user.id,
            username=user.username,
            email=user.email or "",
            name=user.name,
            is_authenticated=True,
            is_active=user.is_active,
            is_superuser=user.is_superuser,
            groups=tuple(sorted(group.name for group in groups)),
            group_ids=frozenset(group.id for group in groups),
            attributes=MappingProxyType(dict(user.attributes or {})),
        )


ANONYMOUS = PolicyUser()


@dataclass(frozen=True)
class PolicyRequest:
    user: PolicyUser = ANONYMOUS
    ip: str = ""
    user_agent: str = ""
    path: str = ""
    args: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    context: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    flow_slug: str = ""
    flow_designation: str = ""
    # What a policy type works out from these facts once for every binding it weighs (an
    # expression's variables). A request made with other facts (dataclasses.replace) starts
    # with an empty one.
    memo: dict = field(default_factory=dict, init=False, compare=False, repr=False)


class _Deadline(threading.local):
    value: float | None = None


# Per thread rather than on the request: the engine gives each binding its own deadline, and
# a copy of the request for each cost a third of what an expression policy takes to answer.
DEADLINE = _Deadline()


def policy_deadline() -> float | None:
    """The monotonic time by which the policy running in this thread must have answered
    (None: no limit). A policy that waits, loops or asks a service reads it."""
    return DEADLINE.value


@contextmanager
def answering_by(deadline: float | None) -> Iterator[None]:
    """Policies and expressions run in this block, in this thread, must answer by `deadline`."""
    previous = DEADLINE.value
    DEADLINE.value = deadline
    try:
        yield
    finally:
        DEADLINE.value = previous


class PolicyResult(NamedTuple):
    """A policy's answer: a tuple, as a frozen dataclass took longer to build than most
    policies take to decide."""

    passing: bool
    messages: tuple[str, ...] = ()


# The answers most policies give, made once.
PASSES = PolicyResult(True)
FAILS = PolicyResult(False)
