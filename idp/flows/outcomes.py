"""What a stage's submit() returns; the executor alone acts on it."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType


@dataclass(frozen=True)
class StartSession:
    user_id: int
    lifetime: timedelta


@dataclass(frozen=True)
class EndSession:
    pass


@dataclass(frozen=True)
class Advance:
    """The stage is done: merge `updates` into the plan context and move on. A `notice`
    (a success message) is shown on the next page."""

    updates: Mapping = field(default_factory=lambda: MappingProxyType({}))
    session: StartSession | EndSession | None = None
    notice: str = ""


@dataclass(frozen=True)
class Retry:
    """The answer was not accepted: show the stage again with this message."""

    message: str
    field: str | None = None


@dataclass(frozen=True)
class Deny:
    """Stop the flow and show this message."""

    message: str


@dataclass(frozen=True)
class Stay:
    """Keep the stage current: merge `updates` and show it again with a notice (not an error)."""

    notice: str
    updates: Mapping = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Redirect:
    """Leave this flow: to `url` (another site), or into the flow `flow_slug`, whose new plan
    starts with `context` and ends where this one would have (its `next`)."""

    url: str = ""
    flow_slug: str = ""
    context: Mapping = field(default_factory=lambda: MappingProxyType({}))


Outcome = Advance | Retry | Deny | Stay | Redirect
