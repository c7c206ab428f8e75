"""A fixed answer, for tests and for switching a branch off by hand."""

from dataclasses import dataclass

from idp.policies.base import PolicyType
from idp.policies.types import PolicyError, PolicyResult


@dataclass(frozen=True)
class DummyOptions:
    result: bool = True
    message: str = ""
    raise_error: bool = False


class DummyPolicy(PolicyType):
    name = "dummy"
    label = "Fixed result"
    description = "Always passes or always fails, with an optional message."
    Options = DummyOptions

    def evaluate(self, request, options: DummyOptions) -> PolicyResult:
        if options.raise_error:
            raise PolicyError(options.message or "dummy policy raised as configured")
        return PolicyResult(options.result, (options.message,) if options.message else ())
