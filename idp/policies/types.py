"""The small values the policy engine and the policy types pass around."""

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any


class PolicyError(Exception):
    """A policy could not decide (bad options, bad expression, missing data, time out)."""


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
    # monotonic time by which a policy must have answered; set per binding by the engine
    deadline: float | None = None

    def with_deadline(self, deadline: float) -> "PolicyRequest":
        return dataclasses.replace(self, deadline=deadline)


@dataclass(frozen=True)
class PolicyResult:
    passing: bool
    messages: tuple[str, ...] = ()
