"""The reputation policy: true for bad actors, to gate a captcha or a deny stage."""

from dataclasses import dataclass

from idp.options import OptionsError
from idp.policies.base import PolicyType
from idp.policies.types import PolicyError, PolicyResult
from idp.reputation import CLIENT_IP, HIGHEST, LOWEST, USERNAME, current_score


@dataclass(frozen=True)
class ReputationOptions:
    check_username: bool = True
    check_ip: bool = True
    # At or below this score the visitor counts as a bad actor and the policy passes.
    threshold: int = -5

    def validate(self):
        if not (self.check_username or self.check_ip):
            raise OptionsError("check_ip", "check the username, the IP, or both")
        if not LOWEST <= self.threshold <= HIGHEST:
            raise OptionsError("threshold", f"must be between {LOWEST} and {HIGHEST}")


class ReputationPolicy(PolicyType):
    name = "reputation"
    label = "Reputation"
    description = "True for visitors whose recent sign-ins mostly failed."
    Options = ReputationOptions

    def evaluate(self, request, options: ReputationOptions) -> PolicyResult:
        scores = []
        if options.check_username:
            username = request.user.username or str(request.context.get("uid") or "")
            if username:
                scores.append(current_score(USERNAME, username.lower()))
        if options.check_ip:
            if not request.ip:
                raise PolicyError("no client IP to check")
            scores.append(current_score(CLIENT_IP, request.ip))
        is_bad = any(score <= options.threshold for score in scores)
        return PolicyResult(is_bad, ("Too many failed sign-ins recently.",) if is_bad else ())
