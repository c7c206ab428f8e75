"""A fixed answer, for tests and for switching a branch off by hand."""

import time
from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.policies.base import PolicyType
from idp.policies.types import PolicyError, PolicyResult, policy_deadline
from idp.transfer.authentik_models import AuthentikModel


@dataclass(frozen=True)
class DummyOptions:
    result: bool = option(True, N_("Ticked: the policy always passes. Unticked: it always fails."))
    message: str = option(
        "", N_("A message given with the result (shown where a denial is shown).")
    )
    raise_error: bool = option(
        False,
        N_(
            "Fails with an error instead of answering, to try out what a binding's \"when the "
            'policy fails with an error" setting does.'
        ),
    )
    wait_seconds: int = option(
        0, N_("Seconds to wait before answering (0 to 60), to try out binding timeouts.")
    )

    def validate(self):
        if not 0 <= self.wait_seconds <= 60:
            raise OptionsError("wait_seconds", N_("must be between 0 and 60"))


def read_authentik_options(source, options: dict) -> None:
    if source.has("result"):
        options["result"] = source.flag("result", False)


AUTHENTIK = AuthentikModel(
    model="authentik_policies_dummy.dummypolicy",
    read_options=read_authentik_options,
    off_values={"wait_min": (5,), "wait_max": (30,), "execution_logging": (False,)},
    new_options={"result": False},  # authentik's default
)


class DummyPolicy(PolicyType):
    name = "dummy"
    label = N_("Fixed result")
    description = N_("Always passes or always fails, with an optional message.")
    Options = DummyOptions
    authentik = AUTHENTIK

    def evaluate(self, request, options: DummyOptions) -> PolicyResult:
        if options.wait_seconds:
            _wait(options.wait_seconds, policy_deadline())
        if options.raise_error:
            raise PolicyError(options.message or N_("dummy policy raised as configured"))
        return PolicyResult(options.result, (options.message,) if options.message else ())


def _wait(seconds: int, deadline: float | None) -> None:
    until = time.monotonic() + seconds
    if deadline is not None and deadline < until:
        time.sleep(max(0.0, deadline - time.monotonic()))
        raise PolicyError(N_("took longer than its timeout"))
    time.sleep(seconds)
