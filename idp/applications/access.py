"""Who may use an application: its policy, group and user bindings through the policy engine,
evaluated at every call (nothing cached across users or requests)."""

from dataclasses import dataclass
from types import MappingProxyType

from flask_babel import gettext as _

from idp.core.i18n import N_, Sentence
from idp.identity.accounts import groups_of
from idp.models import Application, Group, User
from idp.policies.engine import PolicyFailure, enabled_in_order, explain_bindings
from idp.policies.types import PolicyRequest, PolicyUser

# The reasons are English (events, the proxy's answer); the admin's preview says them in its
# language: constants marked N_, sentences with names kept as Sentence.
NOTHING_BOUND = N_("nothing is bound, so every signed-in user may use it")
NOT_SIGNED_IN = N_("not signed in")
DISABLED = N_("the account is disabled")
MODES = {"all": N_("(every binding must pass)"), "any": N_("(any binding)")}
SUBJECTS = {
    "policy": N_("policy %(name)s"),
    "group": N_("group %(name)s"),
    "user": N_("user %(name)s"),
}


@dataclass(frozen=True)
class RequestFacts:
    """The visit's facts policies may read."""

    ip: str = ""
    user_agent: str = ""
    path: str = ""
    args: dict | None = None


@dataclass(frozen=True)
class AccessDecision:
    allowed: bool
    reasons: tuple[str, ...]


def facts_from_request() -> RequestFacts:
    from flask import request

    from idp.core import network

    return RequestFacts(
        ip=network.client_ip(),
        user_agent=network.user_agent(),
        path=request.path,
        args=request.args.to_dict(),
    )


def may_use(
    application: Application,
    user: User | None,
    facts: RequestFacts | None = None,
    groups: list[Group] | None = None,
) -> AccessDecision:
    """The application must be loaded with its bindings (idp.applications.loading). A caller
    that has the user's groups already passes them."""
    if user is None:
        return AccessDecision(False, (NOT_SIGNED_IN,))
    if not user.is_active:
        return AccessDecision(False, (DISABLED,))
    bindings = enabled_in_order(application.policy_bindings)
    if not bindings:
        return AccessDecision(True, (NOTHING_BOUND,))
    explanation = explain_bindings(
        bindings,
        application.policy_engine_mode,
        _policy_request(application, user, facts, groups),
    )
    reasons = tuple(_verdict_in_words(verdict) for verdict in explanation.verdicts)
    if explanation.failure is not None:
        return AccessDecision(False, (*reasons, _failure_words(explanation.failure)))
    result = explanation.result
    mode = MODES["all" if application.policy_engine_mode == "all" else "any"]
    return AccessDecision(result.passing, (*reasons, *result.messages, mode))


def _policy_request(application, user, facts: RequestFacts | None, groups) -> PolicyRequest:
    facts = facts or RequestFacts()
    return PolicyRequest(
        user=PolicyUser.from_user(user, groups_of(user) if groups is None else groups),
        ip=facts.ip,
        user_agent=facts.user_agent,
        path=facts.path,
        args=MappingProxyType(dict(facts.args or {})),
        context=MappingProxyType({"application": application.slug}),
    )


def _subject(binding) -> Sentence:
    """What the binding asks about ("group staff"), still translatable."""
    kind, name = binding.subject
    return Sentence(SUBJECTS[kind], name=name)


def _bound_as(binding) -> Sentence:
    """The subject as bound: negated bindings say "not ..."."""
    subject = _subject(binding)
    return Sentence(N_("not %(subject)s"), subject=subject) if binding.negate else subject


def _verdict_in_words(verdict) -> str:
    subject = _bound_as(verdict.binding)
    if verdict.error and verdict.passing:
        template = N_("%(subject)s: passed (error: %(error)s; counted as its failure result)")
    elif verdict.error:
        template = N_("%(subject)s: did not pass (error: %(error)s; counted as its failure result)")
    else:
        template = N_("%(subject)s: passed") if verdict.passing else N_("%(subject)s: did not pass")
    values = {"error": verdict.error} if verdict.error else {}
    return Sentence(template, subject=subject, **values)


def _failure_words(failure: PolicyFailure) -> str:
    return Sentence(
        N_("%(subject)s: a rule could not be checked, so access is refused to be safe"),
        subject=_subject(failure.binding),
    )


def who_may_use(application: Application) -> str:
    """In words, for the admin's list."""
    bindings = enabled_in_order(application.policy_bindings)
    if not bindings:
        return _("Every signed-in user (nothing is bound)")
    names = [_bound_as(binding).in_words() for binding in bindings]
    if application.policy_engine_mode == "all":
        return _("Only %(names)s", names=_(" and ").join(names))
    return _("Only %(names)s", names=_(" or ").join(names))


def may_use_as_client(application: Application) -> AccessDecision:
    """A machine client acting for itself (client_credentials): open when nothing is bound;
    otherwise only policies can pass it (it is in no group and is no user)."""
    bindings = enabled_in_order(application.policy_bindings)
    if not bindings:
        return AccessDecision(True, (NOTHING_BOUND,))
    service = PolicyUser(username=f"client:{application.slug}", is_authenticated=True)
    request = PolicyRequest(
        user=service, context=MappingProxyType({"application": application.slug})
    )
    explanation = explain_bindings(bindings, application.policy_engine_mode, request)
    reasons = tuple(_verdict_in_words(verdict) for verdict in explanation.verdicts)
    if explanation.failure is not None:
        return AccessDecision(False, (*reasons, _failure_words(explanation.failure)))
    return AccessDecision(explanation.result.passing, reasons)
