"""The reputation policy: true for bad actors, to gate a captcha or a deny stage."""

from dataclasses import dataclass

from idp.core.i18n import N_
from idp.core.options import OptionsError, option
from idp.policies.base import PolicyType
from idp.policies.types import PolicyError, PolicyResult
from idp.protection.reputation import CLIENT_IP, HIGHEST, LOWEST, USERNAME, current_score
from idp.transfer.authentik_models import AuthentikModel


@dataclass(frozen=True)
class ReputationOptions:
    check_username: bool = option(
        True, N_("Looks at the score of the username typed (failed sign-ins lower it).")
    )
    check_ip: bool = option(True, N_("Looks at the score of the visitor's IP address."))
    threshold: int = option(
        -5,
        N_(
            "At or below this score the visitor counts as a bad actor and the policy passes: bind "
            "it to a captcha or a deny stage."
        ),
    )

    def validate(self):
        if not (self.check_username or self.check_ip):
            raise OptionsError("check_ip", N_("check the username, the IP, or both"))
        if not LOWEST <= self.threshold <= HIGHEST:
            raise OptionsError(
                "threshold",
                N_("must be between %(lowest)s and %(highest)s"),
                lowest=LOWEST,
                highest=HIGHEST,
            )


def read_authentik_options(source, options: dict) -> None:
    """authentik passes when the summed score of the IP's and the name's rows is at or below
    the threshold; Gatehouse when either score is: the same question asked of each."""
    for key in ("check_ip", "check_username"):
        if source.has(key):
            options[key] = source.flag(key, True)
    if not (options["check_ip"] or options["check_username"]):
        source.skip("it checks neither the IP nor the username")
        return
    if source.has("threshold"):
        threshold = source.number("threshold", 10)
        if isinstance(threshold, int):
            options["threshold"] = min(max(threshold, LOWEST), HIGHEST)


AUTHENTIK = AuthentikModel(
    model="authentik_policies_reputation.reputationpolicy",
    read_options=read_authentik_options,
    off_values={"execution_logging": (False,)},
    new_options={"threshold": 10},  # authentik's default
)


class ReputationPolicy(PolicyType):
    name = "reputation"
    label = N_("Reputation")
    description = N_("True for visitors whose recent sign-ins mostly failed.")
    Options = ReputationOptions
    authentik = AUTHENTIK

    def evaluate(self, request, options: ReputationOptions) -> PolicyResult:
        scores = []
        if options.check_username:
            username = request.user.username or str(request.context.get("uid") or "")
            if username:
                scores.append(current_score(USERNAME, username.lower()))
        if options.check_ip:
            if not request.ip:
                raise PolicyError(N_("no client IP to check"))
            scores.append(current_score(CLIENT_IP, request.ip))
        is_bad = any(score <= options.threshold for score in scores)
        return PolicyResult(is_bad, (N_("Too many failed sign-ins recently."),) if is_bad else ())
