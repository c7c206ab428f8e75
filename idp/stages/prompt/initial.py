"""Each field's initial value for this visit: the option's text, or what its expression gives.

An expression that fails (an error, a time-out, a value that is not text) leaves its field
empty: an initial value helps the visitor, it never decides anything.
"""

import logging
import time

from idp.flows.planner import build_policy_request
from idp.policies.expression import run_expression
from idp.policies.types import PolicyError

log = logging.getLogger("idp.stages.prompt")

INITIAL_VALUE_TIMEOUT = 2  # seconds, for each field's expression


def initial_values(ctx) -> dict[str, str]:
    values = {}
    request = None
    for prompt_field in ctx.options.ordered_fields:
        if not prompt_field.initial_value_expression:
            values[prompt_field.key] = prompt_field.initial_value
            continue
        request = request or build_policy_request(ctx.flow, ctx.data, ctx.current_user)
        values[prompt_field.key] = _evaluated(prompt_field, request)
    return values


def _evaluated(prompt_field, request) -> str:
    request = request.with_deadline(time.monotonic() + INITIAL_VALUE_TIMEOUT)
    try:
        value = run_expression(prompt_field.initial_value_expression, request)
    except PolicyError as error:
        log.warning("initial value failed", extra={"field": prompt_field.key, "error": str(error)})
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return ""
