"""The one answer to "may this request through?", for the live endpoints and the admin's
tester alike."""

from dataclasses import dataclass

from idp.applications.access import RequestFacts, may_use
from idp.identity.accounts import groups_of
from idp.models import Application, User
from idp.providers.proxy import identity
from idp.providers.proxy.targets import Target, application_for, proxy_applications


@dataclass(frozen=True)
class Verdict:
    status: int  # 200 let through, 401 sign in first, 403 refused
    summary: str
    application: Application | None = None
    headers: tuple[tuple[str, str], ...] = ()
    reasons: tuple[str, ...] = ()


def decide(target: Target, user: User | None, facts: RequestFacts) -> Verdict:
    protected = application_for(target, proxy_applications())
    if protected is None:
        return Verdict(403, f"{target.host} is not an application Gatehouse protects.")
    application = protected.application
    if user is None:
        return Verdict(401, "Sign in at Gatehouse first.", application)
    groups = groups_of(user)
    decision = may_use(application, user, facts, groups)
    summary = f"{user.username} {'may' if decision.allowed else 'may not'} use {application.name}."
    if not decision.allowed:
        return Verdict(403, summary, application, reasons=decision.reasons)
    headers = tuple(identity.headers_for(user, groups, protected.options))
    return Verdict(200, summary, application, headers, decision.reasons)
