"""The one answer to "may this request through?", for the live endpoints and the admin's
tester alike."""

from dataclasses import dataclass

from idp.applications.access import RequestFacts, may_use
from idp.core.i18n import N_, Sentence
from idp.identity.accounts import groups_of
from idp.models import Application, User
from idp.providers.proxy import identity
from idp.providers.proxy.targets import Target, claimants_of, proxy_applications

# The summary is English for the proxy (a refusal's body); the admin's tester says it in its
# language.
NOT_PROTECTED = N_("%(host)s is not an application Gatehouse protects.")
SIGN_IN_FIRST = N_("Sign in at Gatehouse first.")
MAY_USE = N_("%(name)s may use %(application)s.")
MAY_NOT_USE = N_("%(name)s may not use %(application)s.")
# The proxy hands the summary to whoever asked, signed in or not: the applications are
# named only among the reasons, which the admin's tester shows.
CLAIMED_TWICE = N_(
    "%(host)s is claimed alike by more than one application: an administrator must change or "
    "delete one of them before anyone may pass."
)
CLAIMANTS = N_("The applications that claim it: %(applications)s.")


@dataclass(frozen=True)
class Verdict:
    status: int  # 200 let through, 401 sign in first, 403 refused
    summary: str
    application: Application | None = None
    headers: tuple[tuple[str, str], ...] = ()
    reasons: tuple[str, ...] = ()


def decide(target: Target, user: User | None, facts: RequestFacts) -> Verdict:
    claimants = claimants_of(target, proxy_applications())
    if not claimants:
        return Verdict(403, Sentence(NOT_PROTECTED, host=target.host))
    if len(claimants) > 1:
        names = ", ".join(sorted(claimant.application.name for claimant in claimants))
        reasons = (Sentence(CLAIMANTS, applications=names),)
        return Verdict(403, Sentence(CLAIMED_TWICE, host=target.host), reasons=reasons)
    protected = claimants[0]
    application = protected.application
    if user is None:
        return Verdict(401, SIGN_IN_FIRST, application)
    groups = groups_of(user)
    decision = may_use(application, user, facts, groups)
    summary = Sentence(
        MAY_USE if decision.allowed else MAY_NOT_USE,
        name=user.username,
        application=application.name,
    )
    if not decision.allowed:
        return Verdict(403, summary, application, reasons=decision.reasons)
    headers = tuple(identity.headers_for(user, groups, protected.options, application.slug))
    return Verdict(200, summary, application, headers, decision.reasons)
