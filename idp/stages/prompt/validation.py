"""Running a prompt's validation policies on the answers, passwords still in clear.

The clear answers exist only for this check, in memory; they are never stored.
"""

import dataclasses
from types import MappingProxyType

from sqlalchemy import select

from idp.core.extensions import db
from idp.core.i18n import N_, translated
from idp.flows.context import PROMPT_DATA
from idp.flows.planner import build_policy_request
from idp.models import Policy
from idp.policies.engine import evaluate_policy, rules_of
from idp.policies.types import PolicyError

VALIDATION_TIMEOUT = 30
UNCHECKED = N_("Your answers could not be checked right now, so they were not accepted.")


def check_answers(ctx, answers: dict) -> str | None:
    """None when every validation policy passes, else the message to show."""
    names = ctx.options.validation_policies
    if not names:
        return None
    policies = {
        policy.name: policy
        for policy in db.session.scalars(select(Policy).where(Policy.name.in_(names)))
    }
    base = build_policy_request(ctx.flow, ctx.data, ctx.current_user)
    request = dataclasses.replace(
        base,
        context=MappingProxyType(
            {**base.context, PROMPT_DATA: {**base.context.get(PROMPT_DATA, {}), **answers}}
        ),
    )
    messages = []
    for name in names:
        if name not in policies:
            return UNCHECKED  # fail closed: a missing rule is not a passed rule
        try:
            result = evaluate_policy(policies[name], request, VALIDATION_TIMEOUT)
        except PolicyError:
            return UNCHECKED
        if not result.passing:
            messages.extend(result.messages or (N_("This answer is not allowed."),))
    # Each message in the visitor's language before they are joined (a policy's own
    # message, an administrator's words, stays as written).
    return " ".join(translated(message) for message in messages) if messages else None


def rules_by_field(ctx) -> dict[str, list[str]]:
    """The rules the validation policies state up front, by the field they are about; only
    for fields this prompt asks."""
    names = ctx.options.validation_policies
    if not names:
        return {}
    asked = {prompt_field.key for prompt_field in ctx.options.ordered_fields}
    rules: dict[str, list[str]] = {}
    for policy in db.session.scalars(select(Policy).where(Policy.name.in_(names))):
        field, *stated = rules_of(policy) or ("",)
        if field in asked and stated:
            rules.setdefault(field, []).extend(stated)
    return rules
