"""Running a prompt's validation policies on the answers, passwords still in clear.

The clear answers exist only for this check, in memory; they are never stored.
"""

import dataclasses
from types import MappingProxyType

from sqlalchemy import select

from idp.core.extensions import db
from idp.flows.context import PROMPT_DATA
from idp.flows.planner import build_policy_request
from idp.models import Policy
from idp.policies.engine import evaluate_policy
from idp.policies.types import PolicyError

VALIDATION_TIMEOUT = 30
UNCHECKED = "Your answers could not be checked right now, so they were not accepted."


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
            messages.extend(result.messages or ("This answer is not allowed.",))
    return " ".join(messages) if messages else None
