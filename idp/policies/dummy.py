"""A fixed answer, for tests and for switching a branch off by hand."""

import time
from dataclasses import dataclass

from idp.options import OptionsError
from idp.options_forms import options_form_for
from idp.policies.base import PolicyType
from idp.policies.types import PolicyError, PolicyResult


@dataclass(frozen=True)
class DummyOptions:
    result: bool = True
    message: str = ""
    raise_error: bool = False
    # Seconds to take before answering, to try out binding timeouts.
    wait_seconds: int = 0

    def validate(self):
        if not 0 <= self.wait_seconds <= 60:
            raise OptionsError("wait_seconds", "must be between 0 and 60")


OptionsForm = options_form_for(DummyOptions)


class DummyPolicy(PolicyType):
    name = "dummy"
    label = "Fixed result"
    description = "Always passes or always fails, with an optional message."
    Options = DummyOptions
    options_form = OptionsForm

    def evaluate(self, request, options: DummyOptions) -> PolicyResult:
        if options.wait_seconds:
            _wait(options.wait_seconds, request.deadline)
        if options.raise_error:
            raise PolicyError(options.message or "dummy policy raised as configured")
        return PolicyResult(options.result, (options.message,) if options.message else ())


def _wait(seconds: int, deadline: float | None) -> None:
    until = time.monotonic() + seconds
    if deadline is not None and deadline < until:
        time.sleep(max(0.0, deadline - time.monotonic()))
        raise PolicyError("took longer than its timeout")
    time.sleep(seconds)
